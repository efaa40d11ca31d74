"""The pace of many requests: a client-side rate limit, and one shared back-off after a 429.

One gate serves a batch (every request of a batch passes it), and one serves each connection on each event
loop (every request the async transport sends on that connection passes it: a triggerer's thousand waits
share their connection's budget). Every request passes :meth:`RequestGate.acquire` first. Starts are spaced
``1 / rate`` seconds apart (no burst, so raia's own limiter is never surprised). When raia answers 429 all pause
until its ``Retry-After`` has passed: requests in flight finish, nobody starts a new one, and afterwards
requests start again one slot at a time rather than all at once. Since raia publishes no rate limit, the
gate also adapts (additive increase, multiplicative decrease, as TCP does): a 429 halves the pace to half
of what was just sent, and each success adds back a little, up to the configured rate. Without a configured
rate the gate runs unpaced until the first 429 teaches it one.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from raia_provider._core import clock as provider_clock

#: The slowest pace a run of 429s can push the gate down to, in requests per second.
MIN_RATE: Final = 0.5
#: The window over which the pace just sent is measured when a 429 arrives, in seconds.
_WINDOW: Final = 1.0
#: A wait for a slot at least this long is worth telling the log about (once per gate).
NOTICEABLE_WAIT: Final = 1.0

log = logging.getLogger(__name__)


class RequestGate:
    """Decide when the next request of a batch may start.

    :param rate: the most request starts per second, or ``None`` for no client-side limit.
    :param clock: a monotonic clock in seconds (default: :func:`raia_provider._core.clock.monotonic`, looked up
        at each call).
    :param sleep: the coroutine sleep (default: :func:`raia_provider._core.clock.asleep`, looked up at each wait).
    :param spread_notice: what to log, once, the first time a request waits :data:`NOTICEABLE_WAIT` or more for
        its slot (``{wait}`` is replaced by that wait in seconds); ``None`` logs nothing.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        spread_notice: str | None = None,
    ) -> None:
        self.ceiling = rate
        self.rate = rate
        self._clock = clock or (lambda: provider_clock.monotonic())
        self._sleep = sleep
        self._spread_notice = spread_notice
        self._next_start = 0.0
        self._paused_until = 0.0
        self._recent: collections.deque[float] = collections.deque()
        #: How many pauses raia's 429s caused, and how many seconds they added up to.
        self.pauses = 0
        self.paused_seconds = 0.0

    async def acquire(self) -> None:
        """Wait for this request's slot: after the previous start plus the interval, and after any pause."""
        while True:
            now = self._clock()
            start = max(now, self._next_start, self._paused_until)
            # Reserve the slot before sleeping, so concurrent callers line up one interval apart.
            self._next_start = start + (1.0 / self.rate if self.rate else 0.0)
            if start > now:
                if self._spread_notice is not None and start - now >= NOTICEABLE_WAIT:
                    log.info(self._spread_notice.replace("{wait}", f"{start - now:.1f}"))
                    self._spread_notice = None  # once: a thousand waits do not each say so every poll
                await (self._sleep or provider_clock.asleep)(start - now)
            if self._paused_until <= start:
                recent = self._recent
                recent.append(start)
                while recent[0] < start - _WINDOW:  # only the last window is ever read
                    recent.popleft()
                return
            # A 429 arrived while this caller waited: its slot is void, line up again after the pause.

    def succeeded(self) -> None:
        """A request was answered without a 429: raise the pace a little (about +1 request/s each second)."""
        if self.rate is not None and (self.ceiling is None or self.rate < self.ceiling):
            self.rate = self.rate + 1.0 / self.rate
            if self.ceiling is not None:
                self.rate = min(self.rate, self.ceiling)

    def throttled(self, retry_after: float) -> None:
        """raia answered 429: hold every new request for ``retry_after`` seconds and halve the pace.

        The 429s of requests that were already in flight belong to the same burst: only the first one
        of a pause lowers the pace.

        :param retry_after: how long raia asked to wait (or the retry policy's backoff when it did not say).
        """
        now = self._clock()
        if now >= self._paused_until:
            while self._recent and self._recent[0] < now - _WINDOW:
                self._recent.popleft()
            sent = len(self._recent) / _WINDOW
            current = self.rate if self.rate is not None else sent
            self.rate = max(MIN_RATE, min(current, sent) / 2 if sent else current / 2)
        until = now + retry_after
        if until > self._paused_until:
            self.pauses += 1
            self.paused_seconds += until - max(self._paused_until, now)
            self._paused_until = until
        self._next_start = max(self._next_start, self._paused_until)
