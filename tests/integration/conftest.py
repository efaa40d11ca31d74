"""Integration fixtures: a ``raia_default`` connection pointing at the emulator over real loopback sockets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.testing import RaiaEmulator

#: Short real waits: these tests go over real sockets, so retries really sleep.
FAST_RETRIES = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0.0)


@pytest.fixture
def emulator(raia_emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> RaiaEmulator:
    """The emulator, reset (async prompts answer after its short default delay), with ``raia_default`` at it."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT",
        json.dumps({"conn_type": "raia", "password": raia_emulator.default_key, "host": raia_emulator.base_url}),
    )
    return raia_emulator


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[tuple[str, str]]:
    """An emulator in its own process (the CLI), so this process's memory is the client's alone.

    Yields ``(base_url, key)``.
    """
    key = "sk-subprocess-emulator-key"
    process = subprocess.Popen(
        [sys.executable, "-m", "raia_provider.testing", "--port", "0", "--key", key],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the CLI prints this line once it serves
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"emulator did not start: {line!r}"
        yield match.group(1), key
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def subprocess_connection(emulator_process: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``raia_default`` at the subprocess emulator; return its base URL."""
    base_url, key = emulator_process
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT", json.dumps({"conn_type": "raia", "password": key, "host": base_url})
    )
    return base_url
