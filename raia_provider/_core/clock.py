"""Where the provider waits and tells the time: one blocking sleep, one coroutine sleep, one wall
clock and one monotonic clock.

Callers look these names up when they use them (``clock.sleep(...)``, ``clock.now()``, never
``from ... import sleep``), so a test can watch every backoff and poll interval, skip the real wait, and move
time itself (a deadline, a timeout) by replacing them in one place.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Final

#: The grid coroutine sleeps of :data:`SLACK_FROM` seconds or more are rounded up to, in seconds.
TIMER_SLACK: Final = 0.25
#: Sleeps shorter than this many seconds are exact.
SLACK_FROM: Final = 1.0


def now() -> float:
    """The wall clock, ``time.time()`` seconds: what wait deadlines are set in (they outlive a process)."""
    return time.time()


def monotonic() -> float:
    """A monotonic clock in seconds: what paces requests (it never jumps with the wall clock)."""
    return time.monotonic()


def sleep(seconds: float) -> None:
    """Block the calling thread for ``seconds``.

    :param seconds: how long to wait.
    """
    time.sleep(seconds)


async def asleep(seconds: float) -> None:
    """Suspend the calling coroutine for ``seconds``, or up to :data:`TIMER_SLACK` longer.

    A sleep of :data:`SLACK_FROM` seconds or more ends on the next tick of a :data:`TIMER_SLACK` grid of the
    loop's clock (timer slack, as the Linux kernel applies to timers): a triggerer's thousand waits, each
    polling every few seconds, then wake in batches that share one turn of the event loop and one
    ``epoll`` call, rather than one at a time; that halves the CPU a poll costs (``docs/performance.md``,
    P2). Never earlier than asked, so a ``Retry-After`` is still honoured; shorter sleeps (a rate gate's
    spacing) stay exact.

    :param seconds: how long to wait.
    """
    if seconds >= SLACK_FROM:
        loop = asyncio.get_running_loop()
        wake = math.ceil((loop.time() + seconds) / TIMER_SLACK) * TIMER_SLACK
        seconds = wake - loop.time()
    await asyncio.sleep(seconds)
