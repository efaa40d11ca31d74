"""Reliability and security suite (issue 8): fault matrix, bad input, properties, secret handling."""

from __future__ import annotations

import pytest

from raia_provider._core import clock
from raia_provider.hooks.raia import RaiaHook
from raia_provider.testing import RaiaEmulator
from tests.integration.conftest import emulator  # noqa: F401  (the same reset emulator + raia_default)
from tests.reliability.fault_matrix import READ_TIMEOUT, Waits


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Waits:
    """Record the provider's backoffs and poll intervals instead of waiting them (``waits.real`` to wait)."""
    recorder = Waits()
    monkeypatch.setattr(clock, "sleep", recorder.sleep)
    monkeypatch.setattr(clock, "asleep", recorder.asleep)
    monkeypatch.setattr(clock, "monotonic", recorder.monotonic)
    return recorder


@pytest.fixture
def matrix_emulator(emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> RaiaEmulator:  # noqa: F811
    """The emulator answering at once (prompts, replies and file processing settle immediately), and hooks
    whose default read timeout is :data:`READ_TIMEOUT` so the read-timeout row costs half a second."""
    emulator.configure(prompt_delay=0, message_delay=0, vector_store_delay=0)
    defaults = dict(RaiaHook.__init__.__kwdefaults__ or {})
    defaults["read_timeout"] = READ_TIMEOUT
    monkeypatch.setattr(RaiaHook.__init__, "__kwdefaults__", defaults)
    return emulator
