"""The pace of a batch's requests: a client-side rate limit, and one shared back-off after a 429.

Every request of a batch passes :meth:`RequestGate.acquire` first. Starts are spaced ``1 / rate`` seconds
apart (no burst, so raia's own limiter is never surprised), and when raia answers 429 the whole batch pauses
until its ``Retry-After`` has passed: requests in flight finish, nobody starts a new one, and afterwards the
requests start again one slot at a time rather than all at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RequestGate:
    """Decide when the next request of a batch may start.

    :param rate: the most request starts per second, or ``None`` for no client-side limit.
    :param clock: a monotonic clock in seconds (injectable for tests).
    :param sleep: the coroutine sleep (injectable for tests).
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_start = 0.0
        self._paused_until = 0.0
        #: How many pauses raia's 429s caused, and how many seconds they added up to (from the first 429).
        self.pauses = 0
        self.paused_seconds = 0.0

    async def acquire(self) -> None:
        """Wait for this request's slot: after the previous start plus the interval, and after any pause."""
        while True:
            now = self._clock()
            start = max(now, self._next_start, self._paused_until)
            # Reserve the slot before sleeping, so concurrent callers line up one interval apart.
            self._next_start = start + self._interval
            if start > now:
                await self._sleep(start - now)
            if self._paused_until <= start:
                return
            # A 429 arrived while this caller waited: its slot is void, line up again after the pause.

    def pause(self, seconds: float) -> None:
        """Hold every new request for ``seconds`` (raia's ``Retry-After``); a longer pause already set wins.

        :param seconds: how long raia asked to wait.
        """
        until = self._clock() + seconds
        if until > self._paused_until:
            self.pauses += 1
            self.paused_seconds += until - max(self._paused_until, self._clock())
            self._paused_until = until
        self._next_start = max(self._next_start, self._paused_until)
