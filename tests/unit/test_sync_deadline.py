"""The blocking transport's watchdog: a deadline sooner than those already watched still expires on time."""

from __future__ import annotations

import threading
import time

from raia_provider._core.sync_deadline import _WATCHDOG, AnswerDeadline


class SignallingDeadline(AnswerDeadline):
    """Sets an event when the watchdog expires it."""

    def __init__(self, at: float) -> None:
        super().__init__(at)
        self.fired = threading.Event()

    def expire(self) -> None:
        super().expire()
        self.fired.set()


def test_a_sooner_deadline_pushed_after_a_later_one_wakes_the_watchdog() -> None:
    later = SignallingDeadline(time.monotonic() + 600)
    _WATCHDOG.watch(later)  # the watchdog now sleeps until this one (or a sooner one already watched)
    sooner = SignallingDeadline(time.monotonic() + 0.05)
    _WATCHDOG.watch(sooner)
    try:
        # Without the wake-up the watchdog would sleep on towards the later deadline.
        assert sooner.fired.wait(timeout=30)
        assert sooner.expired
        assert not later.expired
    finally:
        _WATCHDOG.finish(sooner)
        _WATCHDOG.finish(later)


def test_a_finished_deadline_never_expires() -> None:
    deadline = SignallingDeadline(time.monotonic() + 0.05)
    _WATCHDOG.watch(deadline)
    _WATCHDOG.finish(deadline)
    witness = SignallingDeadline(time.monotonic() + 0.1)  # expires after the finished one would have
    _WATCHDOG.watch(witness)
    try:
        assert witness.fired.wait(timeout=30)
        assert not deadline.expired
    finally:
        _WATCHDOG.finish(witness)
