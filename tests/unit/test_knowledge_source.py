"""The documents a knowledge sync mirrors: globs, hidden files, name clashes, local and object-storage folders."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from raia_provider.engines.knowledge_source import SourceDocument, check_globs, content_hash, list_documents
from raia_provider.exceptions import RaiaInputError


def write(root: Path, relative: str, content: bytes = b"content") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write(root, "top.md", b"top")
    write(root, "guide/nested.md", b"nested!")
    write(root, "guide/deeper/deep.md", b"deep")
    write(root, "notes.txt", b"text")
    write(root, "drafts/draft.md", b"draft")
    write(root, ".hidden.md", b"hidden")
    write(root, ".git/config.md", b"git")
    write(root, "guide/.cache/cached.md", b"cached")
    return root


def storage_path(root: Path) -> Any:
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(f"file://{root}")


def relatives(documents: list[SourceDocument]) -> list[str]:
    return [document.relative for document in documents]


# check_globs


def test_check_globs_accepts_a_single_glob() -> None:
    assert check_globs("include", "**/*.md") == ("**/*.md",)


def test_check_globs_accepts_a_list_or_tuple() -> None:
    assert check_globs("include", ["*.md", "docs/**"]) == ("*.md", "docs/**")
    assert check_globs("exclude", ("drafts/**",)) == ("drafts/**",)
    assert check_globs("exclude", []) == ()


@pytest.mark.parametrize("patterns", [None, 3, {"*.md"}, {"a": "*.md"}])
def test_check_globs_rejects_what_is_not_a_glob_or_list(patterns: Any) -> None:
    with pytest.raises(RaiaInputError, match="argument 'include' must be a glob pattern or a list"):
        check_globs("include", patterns)


@pytest.mark.parametrize("entry", ["", "   ", None, 5, b"*.md"])
def test_check_globs_rejects_blank_or_non_string_entries(entry: Any) -> None:
    with pytest.raises(RaiaInputError, match="argument 'exclude' holds") as raised:
        check_globs("exclude", ["*.md", entry])
    assert repr(entry) in str(raised.value)


def test_check_globs_rejects_a_blank_single_glob() -> None:
    with pytest.raises(RaiaInputError, match="argument 'include'"):
        check_globs("include", " ")


# list_documents on a local folder


def listed(*args: Any, **kwargs: Any) -> list[SourceDocument]:
    return list_documents(*args, **kwargs).documents


@pytest.mark.parametrize("source_type", [str, Path])
def test_local_folder_lists_every_visible_file_sorted(folder: Path, source_type: Any) -> None:
    documents = listed(source_type(folder), ["**"], [])
    assert relatives(documents) == [
        "drafts/draft.md",
        "guide/deeper/deep.md",
        "guide/nested.md",
        "notes.txt",
        "top.md",
    ]


def test_local_document_fields(folder: Path) -> None:
    (document,) = listed(folder, ["guide/nested.md"], [])
    path = folder / "guide" / "nested.md"
    assert document.relative == "guide/nested.md"
    assert document.name == "nested.md"
    assert document.target == path
    assert document.location == "file://" + os.path.realpath(path)
    assert document.size == len(b"nested!")
    assert document.version == str(path.stat().st_mtime_ns)


def test_double_star_include_matches_top_level_and_nested_files(folder: Path) -> None:
    documents = listed(folder, ["**/*.md"], [])
    assert relatives(documents) == ["drafts/draft.md", "guide/deeper/deep.md", "guide/nested.md", "top.md"]


def test_single_star_include_matches_top_level_only(folder: Path) -> None:
    assert relatives(listed(folder, ["*.md"], [])) == ["top.md"]


def test_exclude_leaves_a_folder_out(folder: Path) -> None:
    documents = listed(folder, ["**/*.md"], ["drafts/**"])
    assert relatives(documents) == ["guide/deeper/deep.md", "guide/nested.md", "top.md"]


def test_any_include_glob_may_match(folder: Path) -> None:
    documents = listed(folder, ["*.txt", "guide/*.md"], [])
    assert relatives(documents) == ["guide/nested.md", "notes.txt"]


def test_no_match_gives_an_empty_list(folder: Path) -> None:
    assert listed(folder, ["**/*.pdf"], []) == []


def test_hidden_files_and_folders_are_skipped(folder: Path) -> None:
    names = {document.name for document in listed(folder, ["**"], [])}
    assert names.isdisjoint({".hidden.md", "config.md", "cached.md"})
    assert "top.md" in names


def test_same_base_name_in_two_folders_is_refused_naming_both(tmp_path: Path) -> None:
    write(tmp_path, "a/readme.md")
    write(tmp_path, "b/readme.md")
    write(tmp_path, "c/other.md")
    with pytest.raises(RaiaInputError, match="argument 'source'") as raised:
        listed(tmp_path, ["**"], [])
    message = str(raised.value)
    assert "a/readme.md" in message
    assert "b/readme.md" in message
    assert "other.md" not in message


def test_name_clash_is_avoided_by_an_exclude(tmp_path: Path) -> None:
    write(tmp_path, "a/readme.md")
    write(tmp_path, "b/readme.md")
    assert relatives(listed(tmp_path, ["**"], ["b/**"])) == ["a/readme.md"]


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RaiaInputError, match=r"argument 'source'.*does not exist"):
        listed(tmp_path / "missing", ["**"], [])


def test_file_given_as_folder_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.md")
    with pytest.raises(RaiaInputError, match=r"argument 'source'.*is not a folder"):
        listed(path, ["**"], [])


def test_source_of_another_type_is_refused() -> None:
    with pytest.raises(RaiaInputError, match="argument 'source'"):
        listed(42, ["**"], [])


# list_documents on an ObjectStoragePath


def test_object_storage_folder_lists_like_the_local_one(folder: Path) -> None:
    documents = listed(storage_path(folder), ["**/*.md"], ["drafts/**"])
    assert relatives(documents) == ["guide/deeper/deep.md", "guide/nested.md", "top.md"]
    nested = documents[1]
    assert nested.name == "nested.md"
    assert nested.size == len(b"nested!")
    assert nested.location == "file://" + os.path.realpath(folder / "guide" / "nested.md")
    assert nested.version is not None


def test_object_storage_url_string_is_listed(folder: Path) -> None:
    documents = listed(f"file://{folder}", ["*.txt"], [])
    assert relatives(documents) == ["notes.txt"]


def test_object_storage_skips_hidden_files_and_folders(folder: Path) -> None:
    names = {document.name for document in listed(storage_path(folder), ["**"], [])}
    assert names == {"draft.md", "deep.md", "nested.md", "notes.txt", "top.md"}


def test_object_storage_name_clash_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "x/same.md")
    write(tmp_path, "y/same.md")
    with pytest.raises(RaiaInputError, match=r"x/same\.md, y/same\.md"):
        listed(storage_path(tmp_path), ["**"], [])


def test_object_storage_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RaiaInputError, match="argument 'source'"):
        listed(storage_path(tmp_path / "missing"), ["**"], [])


def test_object_storage_file_given_as_folder_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.md")
    with pytest.raises(RaiaInputError, match=r"argument 'source'.*is a file, not a folder"):
        listed(storage_path(path), ["**"], [])


# content_hash


def test_content_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    content = os.urandom(3000) + b"tail"
    write(tmp_path, "blob.bin", content)
    (document,) = listed(tmp_path, ["**"], [])
    assert content_hash(document) == hashlib.sha256(content).hexdigest()


def test_content_hash_reads_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import raia_provider.engines.knowledge_source as module

    monkeypatch.setattr(module, "HASH_CHUNK", 7)
    content = b"0123456789" * 5
    write(tmp_path, "blob.bin", content)
    (document,) = listed(tmp_path, ["**"], [])
    assert content_hash(document) == hashlib.sha256(content).hexdigest()


def test_content_hash_of_an_empty_file(tmp_path: Path) -> None:
    write(tmp_path, "empty.md", b"")
    (document,) = listed(tmp_path, ["**"], [])
    assert document.size == 0
    assert content_hash(document) == hashlib.sha256(b"").hexdigest()


def test_content_hash_through_object_storage(folder: Path) -> None:
    (document,) = listed(storage_path(folder), ["top.md"], [])
    assert content_hash(document) == hashlib.sha256(b"top").hexdigest()


def test_content_hash_of_a_vanished_file_raises(tmp_path: Path) -> None:
    path = write(tmp_path, "gone.md")
    (document,) = listed(tmp_path, ["**"], [])
    path.unlink()
    with pytest.raises(FileNotFoundError):
        content_hash(document)
