"""The knowledge-sync manifest: JSON round trip, distrust of foreign input, agent check, Variable store."""

from __future__ import annotations

import json
import logging

import pytest
from pytest_mock import MockerFixture

from raia_provider.engines.knowledge_manifest import FORMAT_VERSION, Manifest, ManifestEntry, VariableManifestStore

WHERE = "Airflow Variable 'kb'"


def entry(name: str = "a.md", sha256: str = "a" * 64, version: str | None = "100") -> ManifestEntry:
    return ManifestEntry(name, sha256, 12, f"file:///kb/{name}", version)


def full_manifest() -> Manifest:
    return Manifest(
        agent_id="agent-1",
        files={"f2": entry("b.md", "b" * 64, None), "f1": entry()},
        pending={"c.md": entry("c.md", "c" * 64, "etag-1")},
        seen=["f2", "f1"],
    )


def test_dump_then_parse_gives_the_same_manifest() -> None:
    manifest = full_manifest()
    parsed = Manifest.parse(manifest.dump(), where=WHERE)
    assert parsed == Manifest(
        agent_id="agent-1",
        files={"f1": entry(), "f2": entry("b.md", "b" * 64, None)},
        pending={"c.md": entry("c.md", "c" * 64, "etag-1")},
        seen=["f1", "f2"],
    )
    assert parsed.files["f2"].source_version is None


def test_dump_is_compact_sorted_json_with_the_format_version() -> None:
    text = full_manifest().dump()
    data = json.loads(text)
    assert data["format"] == FORMAT_VERSION
    assert list(data["files"]) == ["f1", "f2"]
    assert data["seen"] == ["f1", "f2"]
    assert data["files"]["f1"] == {
        "name": "a.md",
        "sha256": "a" * 64,
        "size": 12,
        "location": "file:///kb/a.md",
        "source_version": "100",
    }
    assert ": " not in text
    assert ", " not in text


def test_empty_manifest_round_trips() -> None:
    assert Manifest.parse(Manifest().dump(), where=WHERE) == Manifest()


def test_absent_text_is_an_empty_manifest() -> None:
    assert Manifest.parse(None, where=WHERE) == Manifest()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{",
        "[]",
        "42",
        "null",
        '"a string"',
        '{"files": {}}',
        '{"format": 2, "agent_id": "agent-1", "files": {}}',
        '{"format": "1", "agent_id": "agent-1"}',
    ],
)
def test_garbage_or_foreign_input_is_an_empty_manifest(text: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="raia_provider.engines.knowledge_manifest"):
        manifest = Manifest.parse(text, where=WHERE)
    assert manifest == Manifest()
    assert WHERE in caplog.text


def test_malformed_entries_are_dropped_and_the_rest_kept() -> None:
    good = {"name": "a.md", "sha256": "x", "size": 3, "location": "file:///a.md", "source_version": 7}
    text = json.dumps(
        {
            "format": FORMAT_VERSION,
            "agent_id": 5,
            "files": {
                "ok": good,
                "missing-key": {"name": "b.md", "sha256": "y", "size": 1},
                "bad-size": {**good, "size": "big"},
                "not-a-dict": ["a.md"],
            },
            "pending": "nonsense",
            "seen": ["f1", 2, None, "f2"],
        }
    )
    manifest = Manifest.parse(text, where=WHERE)
    assert manifest.agent_id is None
    assert manifest.files == {"ok": ManifestEntry("a.md", "x", 3, "file:///a.md", "7")}
    assert manifest.pending == {}
    assert manifest.seen == ["f1", "f2"]


def test_entry_read_rejects_non_mappings() -> None:
    assert ManifestEntry.read(["a"]) is None
    assert ManifestEntry.read(None) is None


def test_for_agent_keeps_a_manifest_of_the_same_agent() -> None:
    manifest = full_manifest()
    assert manifest.for_agent("agent-1", where=WHERE) is manifest


def test_for_agent_claims_a_manifest_without_agent() -> None:
    manifest = Manifest(files={"f1": entry()})
    claimed = manifest.for_agent("agent-9", where=WHERE)
    assert claimed.agent_id == "agent-9"
    assert claimed.files == {"f1": entry()}


def test_for_agent_with_another_agent_is_empty(caplog: pytest.LogCaptureFixture) -> None:
    manifest = full_manifest()
    with caplog.at_level(logging.WARNING, logger="raia_provider.engines.knowledge_manifest"):
        other = manifest.for_agent("agent-2", where=WHERE)
    assert other == Manifest(agent_id="agent-2")
    assert other.files == {}
    assert other.pending == {}
    assert other.seen == []
    assert "agent-1" in caplog.text
    assert "agent-2" in caplog.text


def test_known_hash_matches_same_location_size_and_version() -> None:
    manifest = Manifest(files={"f1": entry()}, pending={"c.md": entry("c.md", "c" * 64, "etag-1")})
    assert manifest.known_hash("file:///kb/a.md", 12, "100") == "a" * 64
    assert manifest.known_hash("file:///kb/c.md", 12, "etag-1") == "c" * 64


@pytest.mark.parametrize(
    ("location", "size", "version"),
    [
        ("file:///kb/other.md", 12, "100"),
        ("file:///kb/a.md", 13, "100"),
        ("file:///kb/a.md", 12, "101"),
    ],
)
def test_known_hash_misses_when_anything_differs(location: str, size: int, version: str) -> None:
    manifest = Manifest(files={"f1": entry()})
    assert manifest.known_hash(location, size, version) is None


def test_known_hash_never_matches_without_a_version() -> None:
    manifest = Manifest(files={"f1": entry(version=None)})
    assert manifest.known_hash("file:///kb/a.md", 12, None) is None


def test_known_hash_of_an_empty_manifest_is_none() -> None:
    assert Manifest().known_hash("file:///kb/a.md", 12, "100") is None


def test_store_loads_the_variable(mocker: MockerFixture) -> None:
    variable = mocker.patch("airflow.sdk.Variable")
    variable.get.return_value = full_manifest().dump()
    store = VariableManifestStore("kb")
    assert store.load() == Manifest.parse(full_manifest().dump(), where=WHERE)
    variable.get.assert_called_once_with("kb", default=None)


def test_store_loads_an_empty_manifest_when_the_variable_is_missing(mocker: MockerFixture) -> None:
    variable = mocker.patch("airflow.sdk.Variable")
    variable.get.return_value = None
    assert VariableManifestStore("kb").load() == Manifest()


def test_store_loads_an_empty_manifest_from_a_foreign_value(mocker: MockerFixture) -> None:
    variable = mocker.patch("airflow.sdk.Variable")
    variable.get.return_value = '{"something": "else"}'
    assert VariableManifestStore("kb").load() == Manifest()


def test_store_saves_the_dumped_manifest(mocker: MockerFixture) -> None:
    variable = mocker.patch("airflow.sdk.Variable")
    manifest = full_manifest()
    VariableManifestStore("kb").save(manifest)
    variable.set.assert_called_once()
    args, kwargs = variable.set.call_args
    assert args == ("kb", manifest.dump())
    assert "raia" in kwargs["description"]


def test_store_where_names_the_variable() -> None:
    assert VariableManifestStore("kb").where == WHERE
