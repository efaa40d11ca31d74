"""Where the provider waits and tells the time: one blocking sleep, one coroutine sleep, one wall
clock and one monotonic clock.

Callers look these names up when they use them (``clock.sleep(...)``, ``clock.now()``, never
``from ... import sleep``), so a test can watch every backoff and poll interval, skip the real wait, and move
time itself (a deadline, a timeout) by replacing them in one place.
"""

from __future__ import annotations

import asyncio
import time


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
    """Suspend the calling coroutine for ``seconds``.

    :param seconds: how long to wait.
    """
    await asyncio.sleep(seconds)
