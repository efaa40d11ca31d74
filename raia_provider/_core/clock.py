"""Where the provider waits between retries and between polls: one blocking and one coroutine sleep.

Callers look these names up when they wait (``clock.sleep(...)``, never ``from ... import sleep``), so a
test can watch every backoff and poll interval, and skip the real wait, by replacing them in one place.
"""

from __future__ import annotations

import asyncio
import time


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
