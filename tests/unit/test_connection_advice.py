"""A connection that is missing, or written as a URI, is refused with the connection that would work (issue 16).

Each message is followed to the letter: the line it prints is used as the user would paste it, and must
give a working connection.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from airflow.providers.common.compat.sdk import AirflowNotFoundException
from airflow.sdk import BaseHook, Connection
from packaging.version import Version

from raia_provider._core.settings import CONNECTION_DOCS, RaiaConnectionSettings
from raia_provider.exceptions import RaiaConfigurationError
from raia_provider.hooks.raia import RaiaHook
from tests.conftest import TEST_KEY

AIRFLOW_VERSION = Version(__import__("airflow").__version__)
PLACEHOLDER = "<agent secret key>"


def exported_line(message: str) -> tuple[str, str]:
    """The ``export NAME='VALUE'`` line a message prints, as (NAME, VALUE)."""
    found = re.search(r"^    export (AIRFLOW_CONN_\w+)='(.+)'$", message, flags=re.MULTILINE)
    assert found, message
    return found.group(1), found.group(2)


def settings_from_env(monkeypatch: pytest.MonkeyPatch, name: str, value: str, conn_id: str) -> RaiaConnectionSettings:
    monkeypatch.setenv(name, value.replace(PLACEHOLDER, TEST_KEY))
    return RaiaHook(raia_conn_id=conn_id).settings


@pytest.fixture
def no_such_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's lookup failing as it does in a task for an id it does not know."""

    def get_connection(cls: type[BaseHook], conn_id: str) -> Connection:
        raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(get_connection))
    monkeypatch.delenv("AIRFLOW_CONN_RAIA_PROD", raising=False)


def assert_names_the_connection_and_the_fix(error: RaiaConfigurationError) -> None:
    message = str(error)
    assert message.startswith("raia connection 'raia_prod' is not defined: "), message
    assert "conn_id='raia_prod'" in message
    assert "Admin > Connections" in message
    assert CONNECTION_DOCS in message
    # No 40 lines of Airflow's traceback under it.
    assert error.__cause__ is None
    assert error.__suppress_context__
    name, value = exported_line(message)
    assert name == "AIRFLOW_CONN_RAIA_PROD"
    assert json.loads(value) == {"conn_type": "raia", "password": PLACEHOLDER, "extra": {"region": "us"}}


def test_a_missing_connection_names_the_id_and_prints_a_line_that_defines_it(
    no_such_connection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RaiaConfigurationError) as raised:
        RaiaHook(raia_conn_id="raia_prod").settings  # noqa: B018 - the lookup is the test
    assert_names_the_connection_and_the_fix(raised.value)

    name, value = exported_line(str(raised.value))
    monkeypatch.undo()  # Airflow's own lookup again: the printed line is all the user adds
    settings = settings_from_env(monkeypatch, name, value, "raia_prod")
    assert (settings.conn_id, settings.region, settings.api_key) == ("raia_prod", "us", TEST_KEY)


def test_a_missing_connection_read_from_a_trigger_says_the_same(no_such_connection: None) -> None:
    async def read() -> None:
        await RaiaHook(raia_conn_id="raia_prod").aget_settings()

    with pytest.raises(RaiaConfigurationError) as raised:
        asyncio.run(read())
    assert_names_the_connection_and_the_fix(raised.value)


@pytest.mark.skipif(
    Version("3.2") > AIRFLOW_VERSION,
    reason="Airflow 3.1 outside a task looks a missing id up through the supervisor and fails with an ImportError "
    "(SUPERVISOR_COMMS); inside a task it raises AirflowNotFoundException, as the mocked tests above do",
)
def test_airflows_own_lookup_of_an_unknown_id_gets_the_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_RAIA_PROD", raising=False)
    with pytest.raises(RaiaConfigurationError) as raised:
        RaiaHook(raia_conn_id="raia_prod").settings  # noqa: B018 - the lookup is the test
    assert_names_the_connection_and_the_fix(raised.value)


@pytest.mark.parametrize(
    ("uri", "base_url"),
    [
        ("raia://:{key}@127.0.0.1:18080/external", "http://127.0.0.1:18080/external"),
        ("raia://:{key}@localhost:8080/external", "http://localhost:8080/external"),
        ("raia://:{key}@api.raia2.com/external", "https://api.raia2.com/external"),
    ],
)
def test_a_uri_whose_path_landed_in_schema_says_so_and_shows_forms_that_work(
    uri: str, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_RAIA_URI", uri.format(key=TEST_KEY))
    with pytest.raises(RaiaConfigurationError) as raised:
        RaiaHook(raia_conn_id="raia_uri").settings  # noqa: B018 - the lookup is the test
    message = str(raised.value)
    assert "schema='external'" in message
    assert "Airflow puts the URL's path in 'schema'" in message
    assert TEST_KEY not in message

    name, value = exported_line(message)
    assert name == "AIRFLOW_CONN_RAIA_URI"
    assert settings_from_env(monkeypatch, name, value, "raia_uri").base_url == base_url

    encoded_uri = message.rsplit("URL-encoded base URL: ", 1)[1].strip()
    assert encoded_uri.startswith("raia://:<agent secret key>@")
    assert settings_from_env(monkeypatch, name, encoded_uri, "raia_uri").base_url == base_url
