"""The one retry policy of the provider, for the sync and the async transport alike.

Retried: connection errors, request timeouts, 5xx, 429 and bodies cut short (see
:func:`raia_provider.exceptions.is_transient`). Never retried: 400/401/403/404 and contract mismatches.
Waits grow exponentially with jitter up to ``max_wait``; a 429's ``Retry-After`` is honoured up to
``retry_after_cap``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, TypedDict

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_base,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)
from tenacity.stop import stop_base

from raia_provider.exceptions import RaiaRateLimitError, is_transient

log = logging.getLogger(__name__)

#: The longest ``Retry-After`` honoured by default, in seconds (a wait, or a connection's shared pause).
RETRY_AFTER_CAP: Final = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure.

    :param max_attempts: attempts in total, the first one included (1 disables retries).
    :param initial_wait: the first backoff in seconds; each later one doubles.
    :param max_wait: the longest single backoff in seconds.
    :param jitter: up to this many seconds are added at random to each backoff, so that many clients
        throttled together do not come back together.
    :param retry_after_cap: the longest ``Retry-After`` honoured, in seconds.
    :param max_elapsed: if set, no new attempt starts once this many seconds have passed since the first
        (a caller's own deadline, e.g. a synchronous prompt's ``timeout``).
    """

    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 30.0
    jitter: float = 1.0
    retry_after_cap: float = RETRY_AFTER_CAP
    max_elapsed: float | None = None
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("initial_wait", "max_wait", "jitter", "retry_after_cap"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative, got {getattr(self, name)}")

    def wait_seconds(self, attempt: int, error: BaseException | None) -> float:
        """Return how long to wait after failed attempt number ``attempt`` (1-based).

        :param attempt: the attempt that just failed.
        :param error: what it failed with.
        """
        if isinstance(error, RaiaRateLimitError) and error.retry_after is not None:
            return min(error.retry_after, self.retry_after_cap)
        # The exponent is capped: 2 ** 1024 does not fit a float, and 2 ** 64 waits already exceed any max_wait.
        backoff = min(self.initial_wait * 2 ** min(attempt - 1, 64), self.max_wait)
        return float(min(backoff + self.jitter * self.random(), self.max_wait + self.jitter))

    def retrying(self, sleep: Callable[[float], None], what: str) -> Retrying:
        """Build a tenacity ``Retrying`` for blocking calls.

        :param sleep: the sleep function (``time.sleep``, or a recorder in tests).
        :param what: a description of the call for log lines, e.g. ``POST /prompts``.
        """
        return Retrying(sleep=sleep, **self._strategies(what))

    def async_retrying(self, sleep: Callable[[float], Awaitable[None]], what: str) -> AsyncRetrying:
        """Build a tenacity ``AsyncRetrying`` for coroutines.

        :param sleep: the coroutine sleep function (``asyncio.sleep``, or a recorder in tests).
        :param what: a description of the call for log lines, e.g. ``GET /prompts/{id}/response-on``.
        """
        return AsyncRetrying(sleep=sleep, **self._strategies(what))

    def _strategies(self, what: str) -> _Strategies:
        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_seconds(state.attempt_number, error)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "raia %s failed (attempt %d of %d): %s — retrying in %.1f s",
                what,
                state.attempt_number,
                self.max_attempts,
                error,
                delay,
            )

        return {
            "stop": stop_after_attempt(self.max_attempts)
            if self.max_elapsed is None
            else stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_elapsed),
            "wait": wait,
            "retry": retry_if_exception(is_transient),
            "before_sleep": before_sleep,
            "reraise": True,
        }


class _Strategies(TypedDict):
    """What the sync and the async tenacity loops share: everything but the sleep function."""

    stop: stop_base
    wait: Callable[[RetryCallState], float]
    retry: retry_base
    before_sleep: Callable[[RetryCallState], None]
    reraise: bool


#: One request, no retries: for calls whose caller retries a larger step itself (a poll loop, a
#: look-then-create), so that retries are never nested.
SINGLE_ATTEMPT = RetryPolicy(max_attempts=1)
