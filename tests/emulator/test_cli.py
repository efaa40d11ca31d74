"""``python -m raia_provider.testing``, driven from pytest through ``EmulatorClient``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from raia_provider.testing import EmulatorClient

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"^raia emulator listening on (http://127\.0\.0\.1:(\d+)/external)$")


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "raia_provider.testing", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def cli_emulator() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The CLI emulator in a subprocess, with its printed ``/external`` base URL."""
    process = _spawn(
        "--port",
        "0",
        "--key",
        "cli-secret-key-123456",
        "--agent-name",
        "CLI Agent",
        "--message-delay",
        "none",
        "--message-status-vocabulary",
        "release_notes",
        "--vector-store-delay",
        "0",
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()  # blocks until the server serves (or the process dies)
    match = LISTENING.match(line)
    assert match, f"unexpected first line {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
    yield process, match.group(1)
    assert _stop(process) == 0


def test_cli_server_is_controllable_through_emulator_client(cli_emulator: tuple[subprocess.Popen[str], str]) -> None:
    _, base_url = cli_emulator
    headers = {"Agent-Secret-Key": "cli-secret-key-123456"}
    with EmulatorClient(base_url) as control:
        control.reset()
        assert control.health()["status"] == "ok"
        assert control.base_url == base_url

        control.configure(prompt_delay=None)
        prompt_id = requests.post(f"{base_url}/prompts/async", json={"prompt": "Hi"}, headers=headers).json()[
            "promptId"
        ]
        assert requests.get(f"{base_url}/prompts/{prompt_id}/response-on", headers=headers).json() is None
        control.complete_prompt(prompt_id)
        answer = requests.get(f"{base_url}/prompts/{prompt_id}/response-on", headers=headers).json()
        assert answer["response"] == "[CLI Agent] answer to: Hi"

        control.inject_fault(kind="status", method="POST", path="/external/prompts", status=503, count=1)
        assert [f.count for f in control.faults()] == [1]
        assert requests.post(f"{base_url}/prompts", json={"prompt": "Hi"}, headers=headers).status_code == 503
        assert requests.post(f"{base_url}/prompts", json={"prompt": "Hi"}, headers=headers).status_code == 200

        control.inject_fault(kind="reset")
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{base_url}/agents/by-api-key", headers=headers)

        log = control.requests()
        assert [(r.method, r.status, r.fault) for r in log][-3:] == [
            ("POST", 503, "status"),
            ("POST", 200, None),
            ("GET", None, "reset"),
        ]
        assert "cli-secret-key-123456" not in repr(log)


def test_cli_without_key_generates_and_prints_one() -> None:
    process = _spawn("--port", "0")
    try:
        assert process.stdout is not None
        match = LISTENING.match(process.stdout.readline().strip())
        assert match
        key_line = process.stdout.readline().strip()
        assert key_line.startswith("agent secret key: ")
        key = key_line.removeprefix("agent secret key: ")
        response = requests.get(f"{match.group(1)}/agents/by-api-key", headers={"Agent-Secret-Key": key}, timeout=5)
        assert response.status_code == 200
    finally:
        assert _stop(process, signal.SIGINT) == 0
    port = int(match.group(2))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=2)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "example.com"])
def test_cli_refuses_non_loopback_hosts(host: str) -> None:
    process = _spawn("--port", "0", "--key", "k", "--host", host)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "loopback" in stderr


def test_cli_conversation_knobs(cli_emulator: tuple[subprocess.Popen[str], str]) -> None:
    _, base_url = cli_emulator
    with EmulatorClient(base_url) as control:
        control.reset()
        config = control.config
        assert (config.message_delay, config.message_status_vocabulary, config.vector_store_delay) == (
            None,
            "release_notes",
            0,
        )


def test_cli_storage_origin_and_json_answers_flags() -> None:
    process = _spawn(
        "--port", "0", "--key", "cli-storage-key-1234", "--storage-host", "127.0.0.2", "--json-answers", "mismatch"
    )
    try:
        assert process.stdout is not None
        match = LISTENING.match(process.stdout.readline().strip())
        assert match, process.stderr.read() if process.stderr else ""
        storage_line = process.stdout.readline().strip()
        storage = re.match(r"^storage service at (http://127\.0\.0\.2:\d+)$", storage_line)
        assert storage, storage_line
        with EmulatorClient(match.group(1)) as control:
            assert control.storage_url == storage.group(1)
            assert control.config.json_answers == "mismatch"
        headers = {"Agent-Secret-Key": "cli-storage-key-1234"}
        issued = requests.post(
            f"{match.group(1)}/prompts/upload-url",
            json={"fileName": "a.txt", "contentType": "text/plain"},
            headers=headers,
            timeout=5,
        ).json()
        assert issued["signedUrl"].startswith(f"{storage.group(1)}/")
        assert requests.put(issued["signedUrl"], data=b"a", headers=headers, timeout=5).status_code == 403
        with EmulatorClient(match.group(1)) as control:
            assert [leak.method for leak in control.key_leaks()] == ["PUT"]
    finally:
        assert _stop(process) == 0
