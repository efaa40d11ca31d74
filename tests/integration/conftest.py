"""Integration fixtures: a ``raia_default`` connection pointing at the emulator over real loopback sockets."""

from __future__ import annotations

import json

import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.testing import RaiaEmulator

#: Short real waits: these tests go over real sockets, so retries really sleep.
FAST_RETRIES = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0.0)


@pytest.fixture
def emulator(raia_emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> RaiaEmulator:
    """The emulator, reset, with ``raia_default`` pointing at it and prompts held pending until told."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT",
        json.dumps({"conn_type": "raia", "password": raia_emulator.default_key, "host": raia_emulator.base_url}),
    )
    return raia_emulator
