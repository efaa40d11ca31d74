"""Which files a ``paths`` argument names: local paths, globs, folders and ``ObjectStoragePath`` s, checked.

Everything is expanded and checked before any request, so a typo fails the task before anything is
uploaded. A file that a glob or a folder yields through a symbolic link leading outside the pattern's fixed
folder (or the folder) is skipped and reported, unless links are to be followed; a path named explicitly is
read wherever it points. Each file gets an identity (location, size, modification time) that tells a changed file from
one already uploaded by an earlier try.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raia_provider._core.file_source import file_part
from raia_provider._core.multipart import FilePart
from raia_provider.engines.links import SourceRoot
from raia_provider.exceptions import RaiaInputError

_GLOB_CHARS = re.compile(r"[*?[]")
_LOCAL_PROTOCOLS = ("", "file", "local")
_VERSION_KEYS = ("mtime", "LastModified", "last_modified", "updated", "ETag", "etag", "md5Hash", "created")

PathEntry = str | os.PathLike[str] | Any
"""One entry of ``paths``: a local path or glob (``str`` / ``pathlib.Path``), a URL string
(``s3://...``, ``file://...``), or an Airflow ``ObjectStoragePath``."""


@dataclass(frozen=True)
class SourceFile:
    """One file to upload.

    :param source: the path as given, or as expanded from a pattern or directory (reported back).
    :param part: the checked file, ready to stream.
    :param identity: a digest of its location, size and modification time: changes when the file does.
    """

    source: str
    part: FilePart
    identity: str


@dataclass(frozen=True)
class SourceSelection:
    """What ``paths`` names.

    :param files: the files to upload, in order.
    :param skipped_links: paths a glob or folder yielded through a link leading outside it, skipped.
    """

    files: list[SourceFile]
    skipped_links: list[str]


def resolve_sources(
    paths: Any, *, follow_symlinks: bool = False, argument: str = "paths", content_type: str | None = None
) -> SourceSelection:
    """Expand and check ``paths`` (see :class:`~raia_provider.operators.files.RaiaUploadFilesOperator`); no request.

    :param paths: the operator's rendered ``paths``.
    :param follow_symlinks: read links a glob or folder yields even when they lead outside it.
    :param argument: the operator argument they come from, for messages.
    :param content_type: one MIME type for every file (checked by the caller); guessed from each name when
        ``None``.
    :raises RaiaInputError: naming the argument and the entry that names nothing uploadable.
    """
    sources: list[SourceFile] = []
    seen: set[str] = set()
    skipped: list[str] = []
    for entry in _entries(paths, argument):
        for shown, target in _expand(entry, follow_symlinks, skipped, argument):
            location = canonical_location(target)
            if location in seen:
                continue
            seen.add(location)
            try:
                part = file_part(target, content_type=content_type)
                version = _version(target)
            except ValueError as error:
                raise RaiaInputError(f"argument {argument!r}: {error}.") from None
            identity = json.dumps([location, part.size, version])
            digest = hashlib.sha256(identity.encode()).hexdigest()
            sources.append(SourceFile(source=shown, part=part, identity=digest))
    return SourceSelection(sources, skipped)


def _entries(paths: Any, argument: str) -> list[Any]:
    """Check the shape of ``paths`` (no file system access) and return its entries."""
    if paths is None:
        raise RaiaInputError(
            f"argument {argument!r} is required: a path, a glob pattern, an ObjectStoragePath or a list."
        )
    single = isinstance(paths, str | os.PathLike) or is_object_storage(paths)
    entries = [paths] if single else paths
    if not isinstance(entries, list | tuple):
        raise RaiaInputError(
            f"argument {argument!r} must be a path, a glob pattern, an ObjectStoragePath or a list of them; "
            f"got {type(paths).__name__}."
        )
    if not entries:
        raise RaiaInputError(f"argument {argument!r} is empty: name at least one file, directory or pattern.")
    for index, entry in enumerate(entries):
        where = "" if single else f" item {index}"
        if isinstance(entry, str) and not entry.strip():
            raise RaiaInputError(f"argument {argument!r}{where} is blank.")
        if not (isinstance(entry, str | os.PathLike) or is_object_storage(entry)):
            raise RaiaInputError(
                f"argument {argument!r}{where} must be a local path, a URL or an ObjectStoragePath; "
                f"got {type(entry).__name__} {entry!r}."
            )
    return list(entries)


def has_entries(paths: str | list[Any] | tuple[Any, ...]) -> bool:
    return bool(paths.strip()) if isinstance(paths, str) else bool(paths)


def _expand(entry: Any, follow_symlinks: bool, skipped: list[str], argument: str) -> Iterator[tuple[str, Any]]:
    """Yield ``(source as shown, local Path or ObjectStoragePath)`` for each file ``entry`` names."""
    if isinstance(entry, str) and "://" in entry:
        from airflow.sdk import ObjectStoragePath

        entry = ObjectStoragePath(entry)
    if is_object_storage(entry):
        yield from _expand_object_storage(entry, argument)
    else:
        yield from _expand_local(os.fspath(entry), follow_symlinks, skipped, argument)


def _expand_local(text: str, follow_symlinks: bool, skipped: list[str], argument: str) -> Iterator[tuple[str, Any]]:
    if _GLOB_CHARS.search(text) and not os.path.isfile(text):
        inside = SourceRoot(_fixed_folder(text), follow_symlinks=follow_symlinks)
        found = sorted(match for match in glob.glob(text, recursive=True) if os.path.isfile(match))
        matches = [match for match in found if inside.admits(match)]
        skipped.extend(inside.skipped)
        if not matches:
            raise RaiaInputError(f"argument {argument!r}: the pattern {text!r} matches no file{_links_note(inside)}.")
        for match in matches:
            yield match, Path(match)
    elif os.path.isdir(text):
        inside = SourceRoot(text, follow_symlinks=follow_symlinks)
        children = sorted(
            str(child)
            for child in Path(text).iterdir()
            if child.is_file() and not child.name.startswith(".") and inside.admits(child)
        )
        skipped.extend(inside.skipped)
        if not children:
            raise RaiaInputError(
                f"argument {argument!r}: the directory {text!r} contains no file{_links_note(inside)}."
            )
        for child in children:
            yield child, Path(child)
    else:
        yield text, Path(text)  # checked by file_part: exists, is a file, readable


def _links_note(inside: SourceRoot) -> str:
    """Why a pattern or folder that did hold files yields none: the links to outside it that were skipped."""
    return f" ({len(inside.skipped)} link(s) to outside it skipped)" if inside.skipped else ""


def _fixed_folder(pattern: str) -> str:
    """The folder a local glob searches: its leading components without a glob character (``.`` if none)."""
    fixed: list[str] = []
    for part in Path(pattern).parts:
        if _GLOB_CHARS.search(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _expand_object_storage(entry: Any, argument: str) -> Iterator[tuple[str, Any]]:
    text = str(entry)
    try:
        if _GLOB_CHARS.search(text) and not entry.is_file():
            base, pattern = _split_pattern(entry, argument)
            show_hidden = pattern.rsplit("/", 1)[-1].startswith(".")
            found = [m for m in base.glob(pattern) if (show_hidden or not _hidden(m)) and m.is_file()]
            if not found:
                raise RaiaInputError(f"argument {argument!r}: the pattern {text!r} matches no file.")
        elif entry.is_dir():
            found = [child for child in entry.iterdir() if not _hidden(child) and child.is_file()]
            if not found:
                raise RaiaInputError(f"argument {argument!r}: the directory {text!r} contains no file.")
        else:
            found = [entry]  # checked by file_part
    except RaiaInputError:
        raise
    except Exception as error:  # fsspec raises its backend's own errors (credentials, permissions...)
        raise RaiaInputError(
            f"argument {argument!r}: {text!r} cannot be listed: {type(error).__name__}: {error}"
        ) from None
    for path in sorted(found, key=str):
        yield str(path), path


def _split_pattern(entry: Any, argument: str) -> tuple[Any, str]:
    """Split ``s3://b/kb/*/x*.md`` into the fixed base ``s3://b/kb`` and the pattern ``*/x*.md``."""
    base, parts = entry, []
    while _GLOB_CHARS.search(str(base)):
        parent = base.parent
        if str(parent) == str(base):
            raise RaiaInputError(f"argument {argument!r}: the pattern {str(entry)!r} has no fixed directory to search.")
        parts.append(base.name)
        base = parent
    return base, "/".join(reversed(parts))


def is_object_storage(value: Any) -> bool:
    return not isinstance(value, str | os.PathLike) and all(
        hasattr(value, attribute) for attribute in ("open", "stat", "is_file", "protocol", "glob")
    )


def _hidden(path: Any) -> bool:
    return str(path.name).startswith(".")


def canonical_location(target: Any) -> str:
    """Where a file is, in one spelling: a local file's resolved path, else its URL."""
    local = local_path(target)
    return "file://" + os.path.realpath(local) if local is not None else str(target)


def local_path(target: Any) -> Path | None:
    """The local ``Path`` of ``target`` (a ``Path``, or a local ``ObjectStoragePath``), else ``None``.

    :param target: a ``Path`` or an ``ObjectStoragePath``.
    """
    if isinstance(target, Path):
        return target
    if getattr(target, "protocol", None) in _LOCAL_PROTOCOLS:
        return Path(str(target.path))
    return None


def _version(target: Any) -> str | int | None:
    """What changes when the file's content changes: the modification time (or ETag) storage reports."""
    if isinstance(target, Path):
        return target.stat().st_mtime_ns
    try:
        info = target.stat()
    except Exception as error:
        raise ValueError(f"{str(target)!r} cannot be read: {type(error).__name__}: {error}") from None
    if isinstance(info, Mapping):
        return version_from_info(info)
    mtime = getattr(info, "st_mtime", None)
    return None if mtime is None else str(mtime)


def version_from_info(info: Mapping[str, Any]) -> str | None:
    """The modification time (or ETag) in an fsspec ``info`` dict: the first of the keys backends use.

    :param info: what ``fs.info`` / ``fs.find(detail=True)`` reports for one file.
    """
    for name in _VERSION_KEYS:
        if info.get(name) is not None:
            return str(info[name])
    return None
