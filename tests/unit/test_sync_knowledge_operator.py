"""``RaiaSyncKnowledgeOperator`` at the HTTP layer: checks before any request, plan, dry run, safety bound,
order of uploads and deletes, failures, and where its manifest and Asset event go."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import responses
from pytest_mock import MockerFixture

from raia_provider.exceptions import RaiaAuthError, RaiaInputError, RaiaPartialFailureError, RaiaUnsafeSyncError
from raia_provider.operators.knowledge import (
    SUMMARY_XCOM_KEY,
    RaiaSyncKnowledgeOperator,
    knowledge_alias,
    manifest_variable_for,
)
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.task_doubles import FakeTI
from tests.unit.payloads import AGENT_PROFILE
from tests.unit.test_multipart import parse_form
from tests.unit.test_upload_files_operator import body_bytes

pytestmark = pytest.mark.usefixtures("unit_connection")

AGENT_ID = AGENT_PROFILE["id"]
ASSET_URI = f"raia://us/agents/{AGENT_ID}/files"
MANIFEST = manifest_variable_for("raia_default")


class FakeRaia:
    """raia's agent and agent-file endpoints over ``responses``: files, processing results, refusals.

    :param mocked: the active ``responses`` mock.
    """

    def __init__(self, mocked: responses.RequestsMock) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.uploaded: list[tuple[str, str]] = []  # (name, sha256 of the bytes)
        self.refuse_upload: dict[str, int] = {}
        self.processing_ends: dict[str, str] = {}  # name -> status a list read reports after the upload
        mocked.add_callback(responses.GET, UNIT_BASE_URL + "/agents/by-api-key", callback=self._agent)
        mocked.add_callback(responses.GET, UNIT_BASE_URL + "/agent-files/by-api-key", callback=self._list)
        mocked.add_callback(responses.POST, UNIT_BASE_URL + "/agent-files/upload", callback=self._upload)
        mocked.add_callback(responses.DELETE, UNIT_BASE_URL + "/agent-files", callback=self._delete)
        mocked.add_callback(responses.DELETE, re.compile(rf"{UNIT_BASE_URL}/agent-files/.+"), callback=self._unexpected)

    def seed(self, name: str, status: str | None = "done", created_at: str = "2026-11-01T10:00:00.000Z") -> str:
        file_id = f"old-{len(self.files)}-{name}"
        self.files[file_id] = self._dto(file_id, name, status, created_at)
        return file_id

    def _dto(self, file_id: str, name: str, status: str | None, created_at: str) -> dict[str, Any]:
        return {
            "id": file_id,
            "fileName": name,
            "url": f"https://files.raia.test/{file_id}",
            "createdAt": created_at,
            "vectorStoreFileId": "file-x",
            "isUploadedToVectorStore": status == "done",
            "vectorStoreUploadStatus": status,
            "uploadedToVectorStoreAt": None,
        }

    def _agent(self, request: Any) -> tuple[int, dict[str, str], str]:
        assert request.headers["Agent-Secret-Key"] == TEST_KEY
        self.calls.append(("GET", "agent"))
        return 200, {}, json.dumps(AGENT_PROFILE)

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("GET", "list"))
        if not self.files:
            return (
                404,
                {},
                json.dumps({"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "Agent files not found."}),
            )
        listed = list(self.files.values())
        for item in listed:  # processing ends once it has been seen
            if item["vectorStoreUploadStatus"] == "processing":
                item["vectorStoreUploadStatus"] = self.processing_ends.get(item["fileName"], "done")
        return 200, {}, json.dumps(listed)

    def _upload(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = parse_form(body_bytes(request), request.headers["Content-Type"])
        name, content = form["file"][0] or "", form["file"][1]
        self.calls.append(("POST", name))
        assert form["autoAddToVectorStore"][1] == b"true"
        if name in self.refuse_upload:
            status = self.refuse_upload[name]
            error = {"status": status, "name": "ERR", "message": "Failed to upload agent file."}
            return status, {}, json.dumps(error)
        self.uploaded.append((name, hashlib.sha256(content).hexdigest()))
        file_id = f"new-{len(self.uploaded)}-{name}"
        self.files[file_id] = self._dto(file_id, name, "processing", f"2026-11-24T10:00:{len(self.uploaded):02d}.000Z")
        return 200, {}, json.dumps(self.files[file_id])

    def _delete(self, request: Any) -> tuple[int, dict[str, str], str]:
        ids = json.loads(request.body)["fileIds"]
        self.calls.append(("DELETE", ",".join(sorted(ids))))
        for file_id in ids:
            self.files.pop(file_id, None)
        return 200, {}, ""

    def _unexpected(self, request: Any) -> tuple[int, dict[str, str], str]:
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def names(self) -> list[str]:
        return sorted(item["fileName"] for item in self.files.values())

    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if call[0] in ("POST", "DELETE")]


class FakeVariables:
    """``airflow.sdk.Variable`` over a dict."""

    def __init__(self, mocker: MockerFixture) -> None:
        self.values: dict[str, str] = {}
        self.sets = 0
        variable = mocker.patch("airflow.sdk.Variable")
        variable.get.side_effect = lambda key, default=None: self.values.get(key, default)
        variable.set.side_effect = self._set

    def _set(self, key: str, value: str, description: str | None = None) -> None:
        self.sets += 1
        self.values[key] = value

    def manifest(self) -> dict[str, Any]:
        return dict(json.loads(self.values[MANIFEST]))


class FakeOutletEvents:
    """``context["outlet_events"]``: records what is added to each alias."""

    def __init__(self) -> None:
        self.added: list[tuple[Any, str, dict[str, Any] | None]] = []

    def __getitem__(self, alias: Any) -> Any:
        events = self

        class Accessor:
            def add(self, asset: Any, extra: dict[str, Any] | None = None) -> None:
                events.added.append((alias, asset.uri, extra))

        return Accessor()


@pytest.fixture
def raia() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield FakeRaia(mocked)


@pytest.fixture
def variables(mocker: MockerFixture) -> FakeVariables:
    return FakeVariables(mocker)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    (folder / "guides").mkdir(parents=True)
    (folder / "faq.md").write_text("Refunds take 5 days.")
    (folder / "returns.md").write_text("Returns within 30 days.")
    (folder / "guides" / "setup.md").write_text("Plug it in.")
    return folder


def context() -> Any:  # an Airflow Context, for the operator
    return {"ti": FakeTI(), "outlet_events": FakeOutletEvents()}


def sync(source: Any, **kwargs: Any) -> RaiaSyncKnowledgeOperator:
    kwargs.setdefault("poll_interval", 0.01)
    return RaiaSyncKnowledgeOperator(task_id="sync", source=source, **kwargs)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- checked when the DAG is parsed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": ""}, "argument 'source' is required"),
        ({"source": None}, "argument 'source' is required"),
        ({"max_delete_ratio": 1.5}, "argument 'max_delete_ratio' must be from 0 to 1; got 1.5"),
        ({"max_delete_ratio": -0.1}, "argument 'max_delete_ratio' must be from 0 to 1"),
        ({"max_delete_ratio": "half"}, "argument 'max_delete_ratio' must be a number from 0 to 1; got 'half'"),
        ({"max_delete_ratio": True}, "argument 'max_delete_ratio' must be a number"),
        ({"include": ""}, "argument 'include' holds ''"),
        ({"include": ["**/*.md", 3]}, "argument 'include' holds 3"),
        ({"exclude": {"a": 1}}, "argument 'exclude' must be a glob pattern or a list"),
        ({"dry_run": "yes"}, "argument 'dry_run' must be True or False"),
        ({"manifest_variable": "  "}, "argument 'manifest_variable' must be a non-blank string"),
        ({"poll_interval": 0}, "poll_interval must be a positive number"),
        ({"vector_store_timeout": -5}, "vector_store_timeout must be a positive number"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kb: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RaiaInputError, match=re.escape(message)):
        sync(**{"source": str(kb), **kwargs})


def test_the_asset_alias_joins_the_outlets_the_user_gave(kb: Path) -> None:
    from airflow.sdk import Asset

    mine = Asset("s3://bucket/kb")
    operator = sync(str(kb), outlets=[mine], raia_conn_id="raia_eu")
    assert operator.outlets == [mine, knowledge_alias("raia_eu")]
    assert operator.manifest_variable == "raia_knowledge_manifest__raia_eu"
    assert operator.asset_alias.name == "raia-knowledge:raia_eu"


def test_templated_globs_are_checked_when_rendered(kb: Path) -> None:
    operator = sync(str(kb), include="{{ params.pattern }}")
    assert operator.include == "{{ params.pattern }}"
    assert set(operator.template_fields) == {"source", "include", "exclude", "manifest_variable"}


# -- checked before any request ------------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["missing", "a file", "clashing names"])
def test_an_unusable_source_fails_before_any_request(
    raia: FakeRaia, variables: FakeVariables, kb: Path, problem: str
) -> None:
    source = {"missing": kb / "nope", "a file": kb / "faq.md", "clashing names": kb}[problem]
    (kb / "guides" / "faq.md").write_text("A second faq.md")
    with pytest.raises(RaiaInputError, match="argument 'source'"):
        sync(str(source)).execute(context())
    assert raia.calls == []
    assert variables.sets == 0


# -- plan ------------------------------------------------------------------------------------------------


def test_first_sync_uploads_everything_into_the_vector_store_and_records_the_hashes(
    raia: FakeRaia, variables: FakeVariables, kb: Path
) -> None:
    ctx = context()
    summary = sync(str(kb), include="**/*.md").execute(ctx)
    assert raia.calls == [
        ("GET", "agent"),
        ("GET", "list"),
        ("POST", "faq.md"),
        ("POST", "setup.md"),  # in the order of the relative paths: guides/setup.md
        ("POST", "returns.md"),
        ("GET", "list"),
    ]
    assert sorted(raia.uploaded) == sorted(
        [
            ("faq.md", sha("Refunds take 5 days.")),
            ("returns.md", sha("Returns within 30 days.")),
            ("setup.md", sha("Plug it in.")),
        ]
    )
    manifest = variables.manifest()
    assert manifest["agent_id"] == AGENT_ID
    assert manifest["pending"] == {}
    assert {entry["name"]: entry["sha256"] for entry in manifest["files"].values()} == {
        name: digest for name, digest in raia.uploaded
    }
    assert summary["plan"] == {"add": 3, "replace": 0, "remove": 0, "keep": 0}
    assert summary["uploaded"] == 3
    assert summary["uploaded_bytes"] == sum(len(p.read_bytes()) for p in kb.rglob("*.md"))
    assert summary["asset_uri"] == ASSET_URI
    assert ctx["outlet_events"].added == [(knowledge_alias("raia_default"), ASSET_URI, {"uploaded": 3, "deleted": 0})]
    assert json.loads(json.dumps(summary)) == summary  # plain JSON for XCom


def test_a_second_run_reads_nothing_again_and_changes_nothing(
    raia: FakeRaia, variables: FakeVariables, kb: Path, mocker: MockerFixture
) -> None:
    sync(str(kb)).execute(context())
    raia.calls.clear()
    hashing = mocker.patch("raia_provider.operators.knowledge.content_hash")
    ctx = context()
    summary = sync(str(kb)).execute(ctx)
    assert raia.calls == [("GET", "agent"), ("GET", "list")]
    hashing.assert_not_called()  # size and modification time unchanged: the recorded hash is used
    assert summary["plan"] == {"add": 0, "replace": 0, "remove": 0, "keep": 3}
    assert ctx["outlet_events"].added == []


def test_an_edited_and_a_deleted_document_replace_then_delete(
    raia: FakeRaia, variables: FakeVariables, kb: Path
) -> None:
    sync(str(kb)).execute(context())
    before = {item["fileName"]: item["id"] for item in raia.files.values()}
    (kb / "faq.md").write_text("Refunds take 3 days.")
    (kb / "returns.md").unlink()
    raia.calls.clear()
    summary = sync(str(kb)).execute(context())
    assert raia.calls == [
        ("GET", "agent"),
        ("GET", "list"),
        ("POST", "faq.md"),
        ("GET", "list"),
        ("DELETE", ",".join(sorted([before["faq.md"], before["returns.md"]]))),
    ]
    assert raia.names() == ["faq.md", "setup.md"]
    assert summary["plan"] == {"add": 0, "replace": 1, "remove": 1, "keep": 1}
    assert sorted(summary["deleted_file_ids"]) == sorted([before["faq.md"], before["returns.md"]])
    assert set(variables.manifest()["files"]) == set(raia.files)


def test_files_of_unknown_content_are_replaced_once(raia: FakeRaia, variables: FakeVariables, kb: Path) -> None:
    old = raia.seed("faq.md")  # uploaded by hand: no hash recorded
    summary = sync(str(kb)).execute(context())
    assert summary["plan"] == {"add": 2, "replace": 1, "remove": 0, "keep": 0}
    assert raia.writes()[-1] == ("DELETE", old)
    assert raia.names() == ["faq.md", "returns.md", "setup.md"]


def test_dry_run_plans_logs_and_changes_nothing(
    raia: FakeRaia, variables: FakeVariables, kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = raia.seed("old-pricing.md")
    ctx = context()
    summary = sync(str(kb), dry_run=True).execute(ctx)
    logged = "".join(capsys.readouterr())  # the task logger (structlog) writes to the console in tests
    assert raia.calls == [("GET", "agent"), ("GET", "list")]
    assert variables.sets == 0
    assert summary["dry_run"] is True
    assert summary["plan"] == {"add": 3, "replace": 0, "remove": 1, "keep": 0}
    assert summary["uploaded"] == summary["deleted"] == 0
    assert "add 3, replace 0, remove 1, keep 0" in logged
    assert f"remove old-pricing.md ({stale})" in logged
    assert "add guides/setup.md" in logged
    assert "dry_run=True: nothing was changed at raia" in logged
    assert ctx["outlet_events"].added == []


# -- safety bound ------------------------------------------------------------------------------------------


def test_an_empty_source_does_not_wipe_the_agent(raia: FakeRaia, variables: FakeVariables, tmp_path: Path) -> None:
    for name in ("a.md", "b.md", "c.md"):
        raia.seed(name)
    empty = tmp_path / "mount"
    empty.mkdir()
    with pytest.raises(RaiaUnsafeSyncError, match=r"removes 3 of the agent's 3 file\(s\) \(100%\)") as refused:
        sync(str(empty)).execute(context())
    assert "max_delete_ratio=0.5" in str(refused.value)
    assert str(empty) in str(refused.value)
    assert raia.writes() == []
    assert variables.sets == 0
    assert raia.names() == ["a.md", "b.md", "c.md"]


def test_the_bound_counts_removals_only_and_can_be_raised(raia: FakeRaia, variables: FakeVariables, kb: Path) -> None:
    for name in ("faq.md", "returns.md", "setup.md", "gone.md"):
        raia.seed(name)  # unknown content: three replaces (not counted) and one removal
    summary = sync(str(kb), max_delete_ratio=0.25).execute(context())
    assert summary["plan"] == {"add": 0, "replace": 3, "remove": 1, "keep": 0}
    assert raia.names() == ["faq.md", "returns.md", "setup.md"]
    raia.seed("gone-too.md")
    raia.seed("gone-three.md")
    with pytest.raises(RaiaUnsafeSyncError):
        sync(str(kb), max_delete_ratio=0.25).execute(context())  # 2 of 5
    sync(str(kb), max_delete_ratio=1.0).execute(context())
    assert raia.names() == ["faq.md", "returns.md", "setup.md"]


# -- failures ----------------------------------------------------------------------------------------------


def test_a_refused_document_keeps_its_old_copy_and_the_rest_is_synced(
    raia: FakeRaia, variables: FakeVariables, kb: Path
) -> None:
    sync(str(kb)).execute(context())
    old_faq = next(item["id"] for item in raia.files.values() if item["fileName"] == "faq.md")
    (kb / "faq.md").write_text("Refunds take 3 days.")
    (kb / "returns.md").write_text("Returns within 60 days.")
    (kb / "setup.md").write_text("A new top-level guide.")  # clashes with guides/setup.md unless excluded
    raia.refuse_upload["faq.md"] = 400
    ctx = context()
    with pytest.raises(RaiaPartialFailureError, match=r"faq.md \(upload: RaiaBadRequestError") as failed:
        sync(str(kb), exclude="guides/**").execute(ctx)
    assert "The older copies of the failed documents are kept" in str(failed.value)
    assert old_faq in raia.files  # the agent still knows the last faq it could search
    assert raia.names() == ["faq.md", "returns.md", "setup.md"]
    pushed = ctx["ti"].xcom[SUMMARY_XCOM_KEY]
    assert [item["name"] for item in pushed["failed"]] == ["faq.md"]
    assert pushed["failed"][0]["status_code"] == 400
    assert variables.manifest()["pending"].keys() == {"faq.md"}  # its answer may have been lost: kept pending


def test_a_refused_key_stops_before_any_delete(raia: FakeRaia, variables: FakeVariables, kb: Path) -> None:
    stale = raia.seed("old-pricing.md")
    raia.refuse_upload["guides/setup.md"] = 403
    raia.refuse_upload["faq.md"] = 403
    ctx = context()
    with pytest.raises(RaiaAuthError):
        sync(str(kb), max_delete_ratio=1.0).execute(ctx)
    assert raia.writes() == [("POST", "faq.md")]  # the first upload stops the run: 403 is not about one file
    assert stale in raia.files
    assert ctx["ti"].xcom[SUMMARY_XCOM_KEY]["failed"][0]["stage"] == "upload"
    assert ctx["outlet_events"].added == []


def test_processing_that_fails_deletes_the_new_copy_and_keeps_the_old(
    raia: FakeRaia, variables: FakeVariables, kb: Path
) -> None:
    sync(str(kb)).execute(context())
    old_faq = next(item["id"] for item in raia.files.values() if item["fileName"] == "faq.md")
    (kb / "faq.md").write_text("Refunds take 3 days.")
    raia.processing_ends["faq.md"] = "failed"
    with pytest.raises(RaiaPartialFailureError, match="vector-store processing ended 'failed'"):
        sync(str(kb)).execute(context())
    new_faq = next(name for name in raia.uploaded[-1:])
    assert new_faq[0] == "faq.md"
    assert old_faq in raia.files
    assert [item["fileName"] for item in raia.files.values()].count("faq.md") == 1
    assert old_faq in variables.manifest()["files"]


def test_a_copy_still_processing_keeps_the_old_one_until_a_later_run(
    raia: FakeRaia, variables: FakeVariables, kb: Path
) -> None:
    sync(str(kb)).execute(context())
    old_faq = next(item["id"] for item in raia.files.values() if item["fileName"] == "faq.md")
    (kb / "faq.md").write_text("Refunds take 3 days.")
    raia.processing_ends["faq.md"] = "processing"
    summary = sync(str(kb), vector_store_timeout=0.05).execute(context())
    assert summary["still_processing"] == ["faq.md"]
    assert old_faq in raia.files
    raia.calls.clear()
    again = sync(str(kb), vector_store_timeout=0.05).execute(context())  # the new copy is kept, still processing
    assert again["plan"] == {"add": 0, "replace": 0, "remove": 0, "keep": 3}
    assert again["still_processing"] == ["faq.md"]
    assert raia.writes() == []
    raia.processing_ends["faq.md"] = "done"
    raia.calls.clear()
    later = sync(str(kb)).execute(context())  # the new copy is kept, and now it is done the old one goes
    assert later["plan"] == {"add": 0, "replace": 0, "remove": 0, "keep": 3}
    assert raia.writes() == [("DELETE", old_faq)]
    assert [item["fileName"] for item in raia.files.values()].count("faq.md") == 1


def test_the_key_appears_nowhere(
    raia: FakeRaia,
    variables: FakeVariables,
    kb: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raia.refuse_upload["faq.md"] = 400
    ctx = context()
    with caplog.at_level(logging.DEBUG), pytest.raises(RaiaPartialFailureError) as failed:
        sync(str(kb)).execute(ctx)
    logged = "".join(capsys.readouterr())
    assert "Plan for 3 document(s)" in logged
    assert "Uploaded returns.md" in caplog.text
    seen = [logged, caplog.text, str(failed.value), json.dumps(ctx["ti"].xcom), json.dumps(variables.values)]
    assert not any(TEST_KEY in text for text in seen)
