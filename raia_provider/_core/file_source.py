"""Resolve what a user passes as a file to upload (a local path or an ``ObjectStoragePath``).

Checked before any request: the file exists, is a file (not a directory) and can be read; its size is read
now for ``Content-Length``; its bytes are read only while sending, in chunks.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import os
import re
from pathlib import Path
from typing import IO, Any

from raia_provider._core.multipart import FilePart

FileSource = str | os.PathLike[str] | Any
"""A local path (``str`` / ``pathlib.Path``) or an Airflow ``ObjectStoragePath`` (anything with ``open``,
``stat`` and ``is_file``)."""


_MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def file_part(source: Any, *, content_type: str | None = None) -> FilePart:
    """Validate ``source`` and describe it for a streamed upload.

    :param source: a local path or an ``ObjectStoragePath``.
    :param content_type: its MIME type; guessed from the name when ``None``.
    :raises ValueError: if it does not exist, is not a regular file, or cannot be read, or the content type
        is not ``type/subtype``.
    """
    if content_type is not None:
        check_content_type(content_type)
    part = _described(source)
    return part if content_type is None else dataclasses.replace(part, content_type=content_type)


def check_content_type(content_type: Any) -> None:
    """Refuse a content type that is not ``type/subtype``.

    :param content_type: the value given.
    :raises ValueError: saying what is allowed.
    """
    if not (isinstance(content_type, str) and _MIME_TYPE.match(content_type)):
        raise ValueError(f"content type {content_type!r} is not a MIME type such as 'application/pdf'")


def _described(source: Any) -> FilePart:
    if isinstance(source, FilePart):
        return source
    if isinstance(source, str | os.PathLike) and not _is_object_storage(source):
        return _local(Path(source))
    if _is_object_storage(source):
        return _object_storage(source)
    raise ValueError(f"must be a local path or an ObjectStoragePath, not {type(source).__name__}")


def _local(path: Path) -> FilePart:
    if not path.exists():
        raise ValueError(f"{str(path)!r} does not exist")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory; pass one file (or use a list/glob in the operator)")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a regular file")
    if not os.access(path, os.R_OK):
        raise ValueError(f"{str(path)!r} is not readable by this process")
    resolved = path.resolve()

    def open_file() -> IO[bytes]:
        return resolved.open("rb")

    return FilePart(
        file_name=path.name,
        content_type=_guess_type(path.name),
        size=path.stat().st_size,
        open=open_file,
        source=str(path),
    )


def _is_object_storage(source: Any) -> bool:
    return all(hasattr(source, attribute) for attribute in ("open", "stat", "is_file", "protocol"))


def _object_storage(source: Any) -> FilePart:
    try:
        is_file = source.is_file()
        exists = is_file or source.exists()
    except Exception as exc:  # fsspec raises its backend's own errors (permissions, credentials...)
        raise ValueError(f"{str(source)!r} cannot be read: {type(exc).__name__}: {exc}") from None
    if not exists:
        raise ValueError(f"{str(source)!r} does not exist")
    if not is_file:
        raise ValueError(f"{str(source)!r} is not a file (a directory or prefix?)")
    stat = source.stat()
    size = stat.get("size") if isinstance(stat, dict) else getattr(stat, "st_size", None)
    if size is None:
        raise ValueError(f"{str(source)!r}: the storage does not report the file's size")

    def open_file() -> IO[bytes]:
        return source.open("rb")  # type: ignore[no-any-return]

    return FilePart(
        file_name=source.name,
        content_type=_guess_type(source.name),
        size=int(size),
        open=open_file,
        source=str(source),
    )


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
