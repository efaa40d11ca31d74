"""The ``raia`` connection: every field validated before any request, with messages naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from airflow.sdk import Connection

from raia_provider._core.form import EU_BASE_URL, US_BASE_URL
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider.exceptions import RaiaConfigurationError
from raia_provider.hooks.raia import RaiaHook
from tests.conftest import TEST_KEY


def settings_of(**fields: object) -> RaiaConnectionSettings:
    fields.setdefault("password", TEST_KEY)
    return RaiaConnectionSettings.from_connection(Connection(conn_id="my_raia", conn_type="raia", **fields))  # type: ignore[arg-type]


def test_region_defaults_to_us() -> None:
    settings = settings_of()
    assert (settings.region, settings.base_url, settings.api_key) == ("us", US_BASE_URL, TEST_KEY)


@pytest.mark.parametrize("region", ["eu", "EU", " eu "])
def test_region_eu_maps_to_eu_base_url(region: str) -> None:
    assert settings_of(extra=json.dumps({"region": region})).base_url == EU_BASE_URL


def test_legacy_prefixed_extra_is_read() -> None:
    assert settings_of(extra=json.dumps({"extra__raia__region": "eu"})).region == "eu"


def test_host_overrides_whole_base_url_and_drops_trailing_slash() -> None:
    settings = settings_of(host="http://127.0.0.1:8080/external/", extra=json.dumps({"region": "eu"}))
    assert settings.base_url == "http://127.0.0.1:8080/external"
    assert settings.region == "eu"


def test_repr_never_shows_the_key() -> None:
    assert TEST_KEY not in repr(settings_of())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"password": None}, "Agent Secret Key (password field) is empty"),
        ({"password": ""}, "Agent Secret Key (password field) is empty"),
        ({"extra": json.dumps({"region": "asia"})}, "'region' is 'asia'; allowed values: 'us'"),
        ({"extra": json.dumps({"region": 3})}, "'region' is 3; allowed values"),
        ({"extra": json.dumps({"regoin": "eu"})}, "unknown Extra field(s) 'regoin'; allowed: 'region'"),
        ({"extra": "[1, 2]"}, "Extra field must be a JSON object"),
        ({"host": "api.raia2.com/external"}, "must start with http:// or https://"),
        ({"host": "ftp://api.raia2.com/external"}, "must start with http:// or https://"),
        ({"host": "https://"}, "must start with http:// or https://"),
        ({"host": "https://api.raia2.com/external?x=1"}, "without spaces, ?query or #fragment"),
        ({"host": "https://api.raia2.com/ext ernal"}, "without spaces"),
        ({"host": "https://api.raia2.com:99999/external"}, "invalid port"),
        ({"host": "https://bob:hunter2@proxy.example/external"}, "must not carry credentials"),
        ({"port": 8080}, "the base URL was split into fields: port=8080"),
        ({"schema": "external"}, "the base URL was split into fields: schema='external'"),
        ({"host": "http://127.0.0.1:8080", "schema": "external"}, "the 'schema' field is not used"),
        ({"host": "http://127.0.0.1", "port": 8080}, "the 'port' field is not used"),
        ({"login": "someone"}, "the 'login' field is not used"),
    ],
)
def test_bad_connection_fails_naming_the_field(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(RaiaConfigurationError) as info:
        settings_of(**fields)
    message = str(info.value)
    assert message.startswith("raia connection 'my_raia': ")
    assert expected in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("key", "where"),
    [
        (f" {TEST_KEY}", "at its start or end"),
        (f"{TEST_KEY}\n", "at its start or end"),
        (TEST_KEY[:5] + " " + TEST_KEY[5:], "inside it"),
    ],
)
def test_key_with_whitespace_is_refused_without_echoing_it(key: str, where: str) -> None:
    with pytest.raises(RaiaConfigurationError, match=where) as info:
        settings_of(password=key)
    assert TEST_KEY[:5] not in str(info.value)


def test_json_connection_from_environment(set_connection: Callable[..., None]) -> None:
    set_connection(host=None, region="eu")
    hook = RaiaHook()
    assert hook.settings.base_url == EU_BASE_URL
    assert hook.settings.api_key == TEST_KEY


def test_uri_connection_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The documented URI form: key percent-encoded in the password, base URL percent-encoded in the host.
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_URI",
        "raia://:sk%2Fkey%3D1@http%3A%2F%2F127.0.0.1%3A8080%2Fexternal/?region=eu",
    )
    settings = RaiaHook(raia_conn_id="raia_uri").settings
    assert (settings.api_key, settings.base_url, settings.region) == (
        "sk/key=1",
        "http://127.0.0.1:8080/external",
        "eu",
    )


def test_uri_without_host_uses_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_RAIA_EU", "raia://:abc@/?region=eu")
    assert RaiaHook(raia_conn_id="raia_eu").settings.base_url == EU_BASE_URL


def test_hook_construction_reads_nothing() -> None:
    # DAG files build operators (and so hooks) at every parse: no connection lookup may happen there.
    hook = RaiaHook(raia_conn_id="does_not_exist")
    assert hook.raia_conn_id == "does_not_exist"
    assert hook._settings is None
