"""The emulator lines the README and the installation page give a newcomer work as pasted (issue 16, 9).

Each page's two lines (start the emulator, export the connection) are read from the page; the emulator is
started with the page's key on a free port (8080 may be taken here), and the page's connection, with that
port, answers a prompt.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from raia_provider.hooks.raia import RaiaHook
from raia_provider.testing import RaiaEmulator

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def emulator_lines(page: str) -> tuple[str, str, str]:
    """The page's emulator key and port, and its ``AIRFLOW_CONN_RAIA_DEFAULT`` value."""
    text = (ROOT / page).read_text(encoding="utf-8")
    started = re.search(r"python -m raia_provider\.testing --port (\d+) --key (\S+) &", text)
    exported = re.search(r"export AIRFLOW_CONN_RAIA_DEFAULT='(\{[^']*\"host\": \"http://127\.0\.0\.1[^']*\})'", text)
    assert started, f"{page}: no line starting the emulator in the background"
    assert exported, f"{page}: no AIRFLOW_CONN_RAIA_DEFAULT line for the emulator"
    return started.group(2), started.group(1), exported.group(1)


@pytest.mark.parametrize("page", ["README.md", "docs/installation.rst"])
def test_the_pages_emulator_connection_answers_a_prompt(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key, port, connection = emulator_lines(page)
    assert f"127.0.0.1:{port}/external" in connection
    assert f'"password": "{key}"' in connection
    with RaiaEmulator(key=key) as emulator:
        served_port = emulator.base_url.split(":")[2].split("/")[0]
        monkeypatch.setenv("AIRFLOW_CONN_RAIA_DEFAULT", connection.replace(f":{port}/", f":{served_port}/"))
        hook = RaiaHook()
        try:
            answer = hook.process_prompt(prompt="hello")
        finally:
            hook.close()
    assert answer.status == "completed"
    assert "hello" in (answer.response or "")
