"""The hostile-network and hostile-file rules that need no server: the key, the scheme, links, the batch's files.

Each rule fails before any request (no HTTP mock is registered: a request would fail the test with a
connection error instead of the asserted one).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Connection

from raia_provider._core.operation import Operation, PreparedRequest
from raia_provider._core.responses import RawResponse, decode_response
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider._core.wire import WireLimits
from raia_provider.engines.batch_checkpoint import Checkpoint
from raia_provider.engines.batch_input import load_records
from raia_provider.engines.knowledge_source import list_documents
from raia_provider.engines.source_files import resolve_sources
from raia_provider.exceptions import (
    RaiaConfigurationError,
    RaiaInputError,
    RaiaMalformedResponseError,
    RaiaRedirectError,
    RaiaServerError,
)
from raia_provider.operators.batch import RaiaBatchPromptOperator
from tests.conftest import TEST_KEY
from tests.task_doubles import FakeTI

# -- the key is a header value ------------------------------------------------------------------------------


def settings_of(**fields: Any) -> RaiaConnectionSettings:
    fields.setdefault("password", TEST_KEY)
    return RaiaConnectionSettings.from_connection(Connection(conn_id="my_raia", conn_type="raia", **fields))


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        ("\u200b", "an invisible formatting character (such as a zero-width space)"),
        ("é", "a non-ASCII character"),
        ("\x07", "a control character"),
        ("\x7f", "a control character"),
    ],
    ids=["zero-width-space", "non-ascii-letter", "bell", "delete"],
)
def test_a_key_that_is_not_printable_ascii_is_refused_with_where_and_what(bad: str, kind: str) -> None:
    key = TEST_KEY[:7] + bad + TEST_KEY[7:]

    with pytest.raises(RaiaConfigurationError) as raised:
        settings_of(password=key)

    message = str(raised.value)
    assert f"holds {kind} at position 8 of its {len(key)}" in message
    assert bad not in message
    assert TEST_KEY[:5] not in message
    assert TEST_KEY[-5:] not in message


# -- no clear-text key by accident --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["http://127.0.0.1:8080/external", "http://127.9.9.9/external", "http://localhost:1/x", "http://[::1]:8/e"]
)
def test_plain_http_to_loopback_is_accepted(host: str) -> None:
    assert settings_of(host=host).base_url == host


@pytest.mark.parametrize("host", ["http://raia.example.com/external", "http://10.0.0.5:8080/external"])
def test_plain_http_to_another_host_is_refused_unless_the_extra_opts_in(host: str) -> None:
    with pytest.raises(RaiaConfigurationError, match=r'clear text.*\{"allow_insecure_http": true\}'):
        settings_of(host=host)

    assert settings_of(host=host, extra=json.dumps({"allow_insecure_http": True})).base_url == host
    assert settings_of(host=host, extra=json.dumps({"allow_insecure_http": "true"})).base_url == host


def test_the_opt_in_must_be_a_boolean() -> None:
    with pytest.raises(RaiaConfigurationError, match="'allow_insecure_http' must be true or false, got 'yes'"):
        settings_of(host="http://raia.example.com/external", extra=json.dumps({"allow_insecure_http": "yes"}))


def test_https_needs_no_opt_in() -> None:
    assert settings_of(host="https://raia.example.com/external").base_url == "https://raia.example.com/external"


# -- what comes back ----------------------------------------------------------------------------------------

REQUEST = PreparedRequest(operation=Operation("POST", "/prompts", "(test)"), path="/prompts", params={}, json=None)


def _decode(status: int, body: bytes, headers: dict[str, str] | None = None) -> Any:
    from pydantic import TypeAdapter

    return decode_response(REQUEST, RawResponse(status, headers or {}, body), TypeAdapter(Any), lambda text: text)


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_json_nested_too_deep_is_a_malformed_body(depth: int) -> None:
    with pytest.raises(RaiaMalformedResponseError):
        _decode(200, b"[" * depth + b"]" * depth)


def test_json_nested_too_deep_in_an_error_body_keeps_the_status_error() -> None:
    with pytest.raises(RaiaServerError, match="HTTP 503"):
        _decode(503, b"[" * 100_000 + b"]" * 100_000)


def test_a_redirect_without_location_still_says_what_to_check() -> None:
    with pytest.raises(RaiaRedirectError, match=r"HTTP 302, a redirect, .*Check the connection's base URL"):
        _decode(302, b"")


@pytest.mark.parametrize("size", [0, 1023, True, 2.5])
def test_the_body_limit_must_be_a_whole_number_of_bytes(size: Any) -> None:
    with pytest.raises(RaiaInputError, match="'max_response_bytes' must be a whole number of bytes"):
        WireLimits(max_response_bytes=size)


# -- sources stay inside ------------------------------------------------------------------------------------


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A source folder with a document, a link to a file outside, a link to a folder outside, a link inside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("aws_secret_access_key = ...")
    source = tmp_path / "kb"
    (source / "sub").mkdir(parents=True)
    (source / "faq.md").write_text("Refunds within 30 days.")
    (source / "sub" / "inner.md").write_text("Inner.")
    (source / "link.md").symlink_to(outside / "secret.txt")
    (source / "linked-folder").symlink_to(outside, target_is_directory=True)
    (source / "alias.md").symlink_to(source / "sub" / "inner.md")  # a link that stays inside
    return source


def test_knowledge_sync_skips_links_that_leave_the_source_and_lists_them(planted: Path) -> None:
    listing = list_documents(planted, ["**"], [])

    assert sorted(document.relative for document in listing.documents) == ["alias.md", "faq.md", "sub/inner.md"]
    assert sorted(listing.skipped_links) == ["link.md", "linked-folder"]


def test_knowledge_sync_follows_every_link_when_asked(planted: Path) -> None:
    listing = list_documents(planted, ["**"], [], follow_symlinks=True)

    relatives = sorted(document.relative for document in listing.documents)
    assert relatives == ["alias.md", "faq.md", "link.md", "linked-folder/secret.txt", "sub/inner.md"]
    assert listing.skipped_links == []


def test_a_link_back_up_the_tree_does_not_loop(planted: Path) -> None:
    (planted / "sub" / "up").symlink_to(planted, target_is_directory=True)

    listing = list_documents(planted, ["**"], [], follow_symlinks=True)

    relatives = sorted(document.relative for document in listing.documents)
    assert relatives == ["alias.md", "faq.md", "link.md", "linked-folder/secret.txt", "sub/inner.md"]


@pytest.mark.parametrize("pattern", ["*.md", "**/*"])
def test_upload_globs_skip_links_that_leave_the_folder(planted: Path, pattern: str) -> None:
    selection = resolve_sources(str(planted / pattern))

    names = sorted(Path(source.source).name for source in selection.files)
    assert {"faq.md", "alias.md"} <= set(names)
    assert not {"link.md", "secret.txt"} & set(names)
    assert str(planted / "link.md") in selection.skipped_links


def test_upload_folders_skip_links_that_leave_them(planted: Path) -> None:
    selection = resolve_sources(str(planted))

    assert sorted(Path(source.source).name for source in selection.files) == ["alias.md", "faq.md"]
    assert selection.skipped_links == [str(planted / "link.md")]


def test_a_path_named_explicitly_is_read_wherever_it_points(planted: Path) -> None:
    selection = resolve_sources([str(planted / "link.md")])

    assert [source.part.file_name for source in selection.files] == ["link.md"]
    assert selection.skipped_links == []


def test_a_glob_that_only_found_outside_links_says_so(planted: Path) -> None:
    with pytest.raises(RaiaInputError, match=r"matches no file \(1 link\(s\) to outside it skipped\)"):
        resolve_sources(str(planted / "link*"))


# -- a batch never writes over what it reads ----------------------------------------------------------------


def _batch(input_path: Any, output_path: Any, **more: Any) -> RaiaBatchPromptOperator:
    return RaiaBatchPromptOperator(
        task_id="enrich", input_path=input_path, output_path=output_path, prompt_template="About {{ id }}", **more
    )


@pytest.mark.parametrize("spelling", ["same", "relative", "dotted", "linked"])
def test_a_batch_refuses_an_output_that_is_its_input(
    tmp_path: Path, spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("id\n1\n2\n")
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "alias.csv").symlink_to(source)
    output = {
        "same": str(source),
        "relative": "rows.csv",
        "dotted": str(tmp_path / "sub" / ".." / "rows.csv"),
        "linked": str(tmp_path / "alias.csv"),
    }[spelling]

    with pytest.raises(RaiaInputError, match=r"argument 'output_path': .* is the input file"):
        _batch(str(source), output).execute({"ti": FakeTI()})

    assert source.read_bytes() == before


def test_a_batch_refuses_a_checkpoint_folder_that_holds_its_input(tmp_path: Path) -> None:
    source = tmp_path / "data" / "rows.csv"
    source.parent.mkdir()
    source.write_text("id\n1\n")

    with pytest.raises(RaiaInputError, match="argument 'checkpoint_path'"):
        _batch(str(source), str(tmp_path / "out.jsonl"), checkpoint_path=str(tmp_path / "data")).execute(
            {"ti": FakeTI()}
        )


def test_a_csv_with_a_byte_order_mark_keeps_its_first_column_name(tmp_path: Path) -> None:
    source = tmp_path / "excel.csv"
    source.write_bytes("\ufeffid,city\r\n1,Oslo\r\n".encode())

    records, _ = load_records(None, str(source))

    assert records == [{"id": "1", "city": "Oslo"}]


def test_a_checkpoint_line_cut_inside_a_character_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    folder = tmp_path / "out.jsonl.checkpoint"
    folder.mkdir()
    whole = json.dumps({"key": "a", "status": "completed", "prompt_sha": "s", "response": "ok"}) + "\n"
    cut = json.dumps({"key": "b", "status": "completed", "prompt_sha": "s", "response": "Ærø"}, ensure_ascii=False)
    raw = cut.encode()
    (folder / "part-00000000000000000001-aaaaaaaaaaaa.jsonl").write_bytes(
        whole.encode() + raw[: raw.index("ø".encode()) + 1]
    )

    outcomes = Checkpoint(folder).load({"a": "s", "b": "s"})

    assert list(outcomes) == ["a"]
    assert os.path.exists(folder)
