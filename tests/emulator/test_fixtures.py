"""The pytest plugin: one server per session, reset before each test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from raia_provider.testing.emulator.server import RaiaEmulator

INNER_TESTS = """
import requests

pytest_plugins = ["raia_provider.testing.pytest_plugin"]

SERVERS = []


def test_dirty(raia_emulator):
    SERVERS.append(id(raia_emulator))
    raia_emulator.add_agent(key="dirty-key-000001", name="Dirty")
    raia_emulator.configure(latency=0.05, prompt_delay=None, pending_style="status", rate_limit=100)
    raia_emulator.inject_fault(kind="status", status=500, path="/nothing")
    requests.get(f"{raia_emulator.base_url}/agents/by-api-key", headers={"Agent-Secret-Key": "dirty-key-000001"})
    requests.post(f"{raia_emulator.base_url}/prompts/async", json={"prompt": "x"},
                  headers={"Agent-Secret-Key": raia_emulator.default_key})
    assert raia_emulator.requests()


def test_clean(raia_emulator, raia_emulator_server):
    SERVERS.append(id(raia_emulator))
    assert raia_emulator is raia_emulator_server
    assert len(set(SERVERS)) == 1, "one server for the session"
    assert raia_emulator.requests() == []
    assert raia_emulator.faults() == []
    assert raia_emulator.prompts() == []
    assert raia_emulator.config.latency == 0.0
    assert raia_emulator.config.prompt_delay == 0.2
    assert raia_emulator.config.pending_style == "null"
    assert raia_emulator.config.rate_limit is None
    assert [a.name for a in raia_emulator.state.agents()] == ["Test Agent"]
    r = requests.get(f"{raia_emulator.base_url}/agents/by-api-key", headers={"Agent-Secret-Key": "dirty-key-000001"})
    assert r.status_code == 403
"""


REPO = Path(__file__).resolve().parents[2]


def test_fixture_resets_state_between_tests(tmp_path: Path) -> None:
    """Run a separate pytest session that loads the plugin the documented way: a dirty test, then a check."""
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_session_server_keeps_its_port(raia_emulator: RaiaEmulator, raia_emulator_server: RaiaEmulator) -> None:
    assert raia_emulator is raia_emulator_server
    assert raia_emulator.running
