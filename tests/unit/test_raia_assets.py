"""The ``raia://`` Asset URI scheme and its registration in the provider info."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit

import pytest

from raia_provider.assets.raia import SCHEME, create_asset, knowledge_uri, sanitize_uri
from raia_provider.get_provider_info import get_provider_info


@pytest.mark.parametrize("region", ["us", "eu"])
def test_knowledge_uri(region: str) -> None:
    assert knowledge_uri(region=region, agent_id="abc-123") == f"raia://{region}/agents/abc-123/files"


def test_knowledge_uri_accepts_unreserved_characters_in_the_id() -> None:
    assert knowledge_uri(region="us", agent_id="A.b_c~d-9") == "raia://us/agents/A.b_c~d-9/files"


@pytest.mark.parametrize("region", ["", "asia", "US", "us.example"])
def test_knowledge_uri_rejects_an_unknown_region(region: str) -> None:
    with pytest.raises(ValueError, match="the region must be one of eu, us"):
        knowledge_uri(region=region, agent_id="abc")


@pytest.mark.parametrize("agent_id", ["", "a/b", "a b", "a?b", "a#b", "é"])
def test_knowledge_uri_rejects_an_id_that_cannot_form_the_path(agent_id: str) -> None:
    with pytest.raises(ValueError, match="expected raia://<region>/agents/<agent id>/files"):
        knowledge_uri(region="us", agent_id=agent_id)


def test_sanitize_uri_returns_a_valid_uri_unchanged() -> None:
    split = urlsplit("raia://eu/agents/abc-123/files")
    assert sanitize_uri(split) == split


@pytest.mark.parametrize(
    "uri",
    ["raia://eu/agents/abc/file", "raia://eu/agents/abc/files/", "raia://eu/agents/files", "raia://eu/", "raia://eu"],
)
def test_sanitize_uri_rejects_a_bad_path(uri: str) -> None:
    with pytest.raises(ValueError, match="expected raia://<region>/agents/<agent id>/files") as raised:
        sanitize_uri(urlsplit(uri))
    assert uri in str(raised.value)


def test_sanitize_uri_rejects_a_bad_region() -> None:
    with pytest.raises(ValueError, match="the region must be one of eu, us"):
        sanitize_uri(urlsplit("raia://mars/agents/abc/files"))


@pytest.mark.parametrize("uri", ["raia://us/agents/abc/files?x=1", "raia://us/agents/abc/files#top"])
def test_sanitize_uri_rejects_a_query_or_fragment(uri: str) -> None:
    with pytest.raises(ValueError, match="must not have a query or fragment"):
        sanitize_uri(urlsplit(uri))


def test_create_asset_builds_the_knowledge_asset() -> None:
    asset = create_asset(region="us", agent_id="abc", extra={"team": "kb"})
    assert asset.uri == "raia://us/agents/abc/files"
    assert asset.extra == {"team": "kb"}


def test_create_asset_rejects_a_bad_region() -> None:
    with pytest.raises(ValueError, match="the region must be one of"):
        create_asset(region="moon", agent_id="abc")


def test_provider_info_registers_the_scheme() -> None:
    (entry,) = get_provider_info()["asset-uris"]
    assert entry["schemes"] == [SCHEME] == ["raia"]
    assert entry["handler"] == "raia_provider.assets.raia.sanitize_uri"
    assert entry["factory"] == "raia_provider.assets.raia.create_asset"


def import_string(dotted: str) -> Any:
    """What Airflow does with a dotted path (``airflow.utils.module_loading`` is gone from Airflow 3.3)."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_registered_handler_and_factory_are_importable() -> None:
    (entry,) = get_provider_info()["asset-uris"]
    handler = import_string(entry["handler"])
    factory = import_string(entry["factory"])
    assert handler is sanitize_uri
    assert factory is create_asset
    assert factory(region="eu", agent_id="x").uri == "raia://eu/agents/x/files"


def test_airflow_asset_with_a_valid_raia_uri_is_accepted() -> None:
    from airflow.sdk import Asset

    asset = Asset(uri="raia://us/agents/abc/files")
    assert asset.uri == "raia://us/agents/abc/files"


def test_airflow_asset_with_an_invalid_raia_uri_is_rejected_by_the_registered_handler() -> None:
    from airflow.sdk import Asset

    with pytest.raises(ValueError, match="the region must be one of eu, us"):
        Asset(uri="raia://mars/agents/abc/files")
