"""Test-wide set-up: an isolated Airflow home, and the raia emulator fixtures."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.task_doubles import FakeVariables

# Airflow reads its configuration at import: point it at a throw-away home before any test imports it.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="raia-tests-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

pytest_plugins = ["raia_provider.testing.pytest_plugin"]

#: A recognisable key: tests search logs, errors and XCom for it to prove it never leaks.
TEST_KEY = "sk-raia-TESTKEY-7f3a9c1e5b"
UNIT_BASE_URL = "https://raia.test/external"


def connection_json(key: str = TEST_KEY, host: str | None = UNIT_BASE_URL, **extra: object) -> str:
    """Return an ``AIRFLOW_CONN_*`` value in Airflow's JSON form."""
    conn: dict[str, object] = {"conn_type": "raia", "password": key, "extra": extra}
    if host is not None:
        conn["host"] = host
    return json.dumps(conn)


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Define a ``raia`` connection through the environment, as a deployment would."""

    def define(conn_id: str = "raia_default", **kwargs: object) -> None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(**kwargs))  # type: ignore[arg-type]

    return define


@pytest.fixture
def unit_connection(set_connection: Callable[..., None]) -> str:
    """A ``raia_default`` connection pointing at a base URL that only HTTP-layer mocks answer."""
    set_connection()
    return UNIT_BASE_URL


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Everything logged: stdlib loggers (hook, retries, urllib3) via caplog, ``self.log`` (structlog) via capsys."""
    seen: list[str] = []

    def text() -> str:
        captured = capsys.readouterr()
        seen.append(captured.out + captured.err)
        return caplog.text + "".join(seen)

    with caplog.at_level(logging.DEBUG):
        yield text


@pytest.fixture
def fake_variables(monkeypatch: pytest.MonkeyPatch) -> FakeVariables:
    """``airflow.sdk.Variable`` in memory: tasks run here without a supervisor to read and write Variables."""
    import airflow.sdk

    from tests.task_doubles import FakeVariables

    stand_in = FakeVariables()
    monkeypatch.setattr(airflow.sdk, "Variable", stand_in)
    return stand_in
