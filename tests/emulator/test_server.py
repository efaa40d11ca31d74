"""``RaiaEmulator`` life cycle: start, stop, ports, threads, loopback only, lazy imports."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from raia_provider.testing.emulator.server import RaiaEmulator, UvicornHooks

REPO = Path(__file__).resolve().parents[2]


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("raia-emulator-")]


def test_start_serves_and_stop_releases_port_and_thread() -> None:
    before = set(_emulator_threads())
    emulator = RaiaEmulator(key="k1")
    assert not emulator.running  # __init__ does no I/O

    with emulator:
        port = emulator.port
        assert emulator.url == f"http://127.0.0.1:{port}"
        assert emulator.base_url == f"http://127.0.0.1:{port}/external"
        assert requests.get(f"{emulator.base_url}/agents/by-api-key", headers={"Agent-Secret-Key": "k1"}).ok
        assert len(set(_emulator_threads()) - before) == 1

    # How long start and stop take is benchmark P5's (benchmarks/p5_round_trip.py), not a test's.
    assert not _port_open(port)
    assert set(_emulator_threads()) == before
    assert not emulator.running


async def test_an_emulated_delay_ends_when_the_server_starts_stopping() -> None:
    """What makes stop fast with a slow request in flight: the pause wakes, and says it was cut short."""
    hooks = UvicornHooks()
    hooks.attach_loop()
    pausing = asyncio.ensure_future(hooks.pause(3600))
    await asyncio.sleep(0)  # the pause is waiting

    hooks.begin_stop()

    assert await asyncio.wait_for(pausing, timeout=60) is False  # True only once the hour has passed
    assert await hooks.pause(3600) is False  # and a pause begun while stopping does not wait either


async def test_a_pause_without_a_stop_runs_its_full_time() -> None:
    hooks = UvicornHooks()
    hooks.attach_loop()

    assert await hooks.pause(0) is True


def test_stop_drops_a_request_held_by_a_slow_fault() -> None:
    emulator = RaiaEmulator(key="k1").start()
    emulator.inject_fault(kind="slow", delay=30)
    outcome: list[BaseException | int] = []

    def call() -> None:
        try:
            outcome.append(requests.get(f"{emulator.base_url}/agents/by-api-key", timeout=30).status_code)
        except requests.RequestException as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    while not emulator.requests():  # the slow request has arrived
        time.sleep(0.01)
    emulator.stop()
    caller.join(30)

    assert not caller.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.ConnectionError)  # dropped, not answered with an error page
    (held,) = emulator.requests()
    assert (held.fault, held.finished, held.status) == ("slow", True, None)  # ended without a response


def test_explicit_port_and_restart() -> None:
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]
    emulator = RaiaEmulator(port=port)

    for _ in range(2):  # the same object can be started again after stop
        with emulator:
            assert emulator.port == port
            assert _port_open(port)
        assert not _port_open(port)


def test_stop_is_idempotent_and_double_start_refused() -> None:
    emulator = RaiaEmulator()
    emulator.stop()
    with emulator, pytest.raises(RuntimeError, match="already running"):
        emulator.start()
    emulator.stop()


def test_port_in_use_fails_cleanly() -> None:
    with RaiaEmulator() as first, pytest.raises(OSError, match="in use"):
        RaiaEmulator(port=first.port).start()


def test_addresses_need_a_running_server() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = RaiaEmulator().base_url


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        RaiaEmulator(host=host)


def test_localhost_maps_to_127_0_0_1() -> None:
    with RaiaEmulator(host="localhost") as emulator:
        assert emulator.url.startswith("http://127.0.0.1:")


def test_signed_url_uses_the_socket_address_not_the_host_header() -> None:
    with RaiaEmulator(key="k1") as emulator:
        response = requests.post(
            f"http://localhost:{emulator.port}/external/prompts/upload-url",
            json={"fileName": "a.txt", "contentType": "text/plain"},
            headers={"Agent-Secret-Key": "k1", "Host": "evil.example"},
            timeout=5,
        )
        assert response.json()["signedUrl"].startswith(f"{emulator.storage_url}/_emulator/uploads/")


def test_emulators_are_independent() -> None:
    with RaiaEmulator(key="same") as first, RaiaEmulator(key="same") as second:
        requests.post(f"{first.base_url}/prompts", json={"prompt": "Hi"}, headers={"Agent-Secret-Key": "same"})
        assert len(first.requests()) == 1
        assert second.requests() == []
        assert first.default_agent.id != second.default_agent.id


def test_importing_the_package_loads_no_server_code() -> None:
    code = (
        "import sys, raia_provider.testing as t, raia_provider.testing.pytest_plugin;"
        "heavy = [m for m in ('fastapi', 'uvicorn', 'starlette', 'httpx', 'aiohttp') if m in sys.modules];"
        "assert not heavy, heavy;"
        "assert t.RaiaEmulator.__name__ == 'RaiaEmulator';"
        "assert 'fastapi' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={"PYTHONPATH": str(REPO)}, timeout=60)


def test_lazy_exports() -> None:
    import raia_provider.testing as testing

    assert {"RaiaEmulator", "EmulatorClient", "answer_for", "FAIL_MARKER"} <= set(dir(testing))
    with pytest.raises(AttributeError):
        _ = testing.NotAThing  # type: ignore[attr-defined]
