"""The streamed multipart body: a correct form, an exact length, and the file read in chunks only."""

from __future__ import annotations

import email.parser
import email.policy
import io
from pathlib import Path
from typing import IO

import pytest

from raia_provider._core.file_source import file_part
from raia_provider._core.multipart import FilePart, MultipartBody


def parse_form(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """Parse a multipart/form-data body with the standard library's MIME parser."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    form = {}
    for part in message.iter_parts():
        form[part.get_param("name", header="content-disposition")] = (
            part.get_filename(),
            part.get_payload(decode=True),
        )
    return form


class CountingFile(io.BytesIO):
    """A file that records the size of every read, to prove the body never reads it whole."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


def part_of(data: bytes, name: str = 'report "Q1".pdf') -> tuple[FilePart, list[CountingFile]]:
    opened: list[CountingFile] = []

    def open_file() -> IO[bytes]:
        opened.append(CountingFile(data))
        return opened[-1]

    return FilePart(
        file_name=name, content_type="application/pdf", size=len(data), open=open_file, source="mem"
    ), opened


def test_form_is_parseable_and_length_exact() -> None:
    data = bytes(range(256)) * 5000
    part, opened = part_of(data)
    body = MultipartBody({"autoAddToVectorStore": "true"}, field_name="file", file=part)
    raw = body.reader().read()
    assert len(raw) == len(body) == int(body.headers()["Content-Length"])
    form = parse_form(raw, body.content_type)
    assert form["autoAddToVectorStore"] == (None, b"true")
    assert form["file"] == ("report %22Q1%22.pdf", data)
    assert all(size in (1024 * 1024,) for size in opened[0].reads)


def test_reader_hands_out_small_slices_and_reopens_per_attempt() -> None:
    data = b"x" * (3 * 1024 * 1024 + 17)
    part, opened = part_of(data)
    body = MultipartBody({}, field_name="file", file=part)
    for _ in range(2):  # a retry sends the body again from the first byte
        reader = body.reader()
        received = []
        while chunk := reader.read(8192):
            assert len(chunk) <= 8192
            received.append(chunk)
        assert len(b"".join(received)) == len(body)
    assert len(opened) == 2


async def test_async_chunks_equal_sync_body() -> None:
    data = b"abc" * 700_000
    part, _ = part_of(data)
    body = MultipartBody({"k": "v"}, field_name="file", file=part)
    chunks = [chunk async for chunk in body.aiter()]
    assert b"".join(chunks) == b"".join(body.chunks())
    assert max(len(c) for c in chunks) <= 1024 * 1024


def test_local_file_source(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes(b"# hello")
    part = file_part(path)
    assert (part.file_name, part.content_type, part.size) == ("notes.md", "text/markdown", 7)
    with part.open() as handle:
        assert handle.read() == b"# hello"


def test_object_storage_source(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "faq.txt").write_bytes(b"Q: A?")
    part = file_part(ObjectStoragePath(f"file://{tmp_path}/kb/faq.txt"))
    assert (part.file_name, part.size, part.content_type) == ("faq.txt", 5, "text/plain")
    with part.open() as handle:
        assert handle.read() == b"Q: A?"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing.pdf", "does not exist"),
        (lambda p: p, "is a directory"),
        (lambda p: 42, "must be a local path or an ObjectStoragePath"),
    ],
)
def test_bad_sources_are_refused(tmp_path: Path, make: object, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        file_part(make(tmp_path))  # type: ignore[operator]


def test_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.pdf"
    path.write_bytes(b"x")
    # CI runs as root, who can read any file: simulate the permission check failing.
    monkeypatch.setattr("raia_provider._core.file_source.os.access", lambda *_: False)
    with pytest.raises(ValueError, match="is not readable"):
        file_part(path)


def test_missing_object_storage_file_is_refused(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    with pytest.raises(ValueError, match="does not exist"):
        file_part(ObjectStoragePath(f"file://{tmp_path}/nope.txt"))
