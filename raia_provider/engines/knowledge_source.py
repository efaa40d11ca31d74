"""The documents a knowledge sync mirrors: every file under a local folder or an object-storage prefix.

The folder is listed once (one ``find`` for object storage, which reports sizes and versions without a request
per file), filtered by ``include``/``exclude`` globs matched against each file's path relative to the folder
(``**`` crosses folders; names starting with ``.`` are left out), and checked before any request: the folder
must exist, the globs must be valid, and no two files may share a base name, because raia keeps only the
base name of an uploaded file. A symbolic link (to a file or a folder) whose target is outside the folder is
skipped and reported, unless links are to be followed (:mod:`raia_provider.engines.links`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raia_provider.engines.links import SourceRoot
from raia_provider.engines.source_files import canonical_location, is_object_storage, version_from_info
from raia_provider.exceptions import RaiaInputError

#: Read this much at a time while hashing: a document is never held whole in memory.
HASH_CHUNK = 1024 * 1024
#: How many clashing names an error message lists.
MAX_NAMED = 10


@dataclass(frozen=True)
class SourceDocument:
    """One file of the source folder.

    :param relative: its path under the folder, with ``/`` separators.
    :param target: a ``pathlib.Path`` or an ``ObjectStoragePath``, to read it from.
    :param location: where it is, in one spelling (a resolved ``file://`` path or the URL).
    :param size: its size in bytes.
    :param version: what changes when it changes (modification time or ETag), or ``None`` if unknown.
    """

    relative: str
    target: Any
    location: str
    size: int
    version: str | None

    @property
    def name(self) -> str:
        """The name raia stores it under: its base name."""
        return self.relative.rsplit("/", 1)[-1]


def check_globs(argument: str, patterns: Any) -> tuple[str, ...]:
    """Validate ``include`` or ``exclude``: a glob or a list of globs, each a non-blank string.

    :param argument: the argument's name, for the message.
    :param patterns: what the user passed.
    :raises RaiaInputError: naming the argument and the entry that is wrong.
    """
    entries = [patterns] if isinstance(patterns, str) else patterns
    if not isinstance(entries, list | tuple):
        raise RaiaInputError(f"argument {argument!r} must be a glob pattern or a list of them; got {patterns!r}.")
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise RaiaInputError(
                f"argument {argument!r} holds {entry!r}; each entry must be a non-blank glob such as '**/*.md'."
            )
        _compiled(argument, entry)
    return tuple(entries)


@dataclass(frozen=True)
class SourceListing:
    """What a source folder holds for the sync.

    :param documents: the files kept, sorted by relative path.
    :param skipped_links: relative paths of links skipped because they lead outside the folder.
    """

    documents: list[SourceDocument]
    skipped_links: list[str]


def list_documents(
    source: Any, include: Sequence[str], exclude: Sequence[str], *, follow_symlinks: bool = False
) -> SourceListing:
    """Every file under ``source`` that an ``include`` glob matches and no ``exclude`` glob does, sorted.

    :param source: a local folder (``str``/``Path``), a URL string (``s3://bucket/kb``) or an ``ObjectStoragePath``.
    :param include: globs a file's relative path must match (one of them).
    :param exclude: globs that leave a matching file out.
    :param follow_symlinks: follow links that lead outside a local folder instead of skipping them.
    :raises RaiaInputError: if the folder does not exist or cannot be listed, or two kept files share a name.
    """
    wanted = [_compiled("include", pattern) for pattern in include]
    unwanted = [_compiled("exclude", pattern) for pattern in exclude]
    skipped: list[str] = []
    documents = [
        document
        for document in _walk(_as_source(source), follow_symlinks, skipped)
        if any(p.fullmatch(document.relative) for p in wanted)
        and not any(p.fullmatch(document.relative) for p in unwanted)
    ]
    _check_names(documents)
    return SourceListing(sorted(documents, key=lambda document: document.relative), skipped)


def content_hash(document: SourceDocument) -> str:
    """The SHA-256 of the document's bytes, read in chunks.

    :param document: the document.
    :raises OSError: if it cannot be read (it vanished since it was listed, say).
    """
    digest = hashlib.sha256()
    with document.target.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _compiled(argument: str, pattern: str) -> re.Pattern[str]:
    from fsspec.utils import glob_translate

    try:
        return re.compile(glob_translate(pattern.strip().lstrip("/")))
    except (ValueError, re.error) as error:
        raise RaiaInputError(f"argument {argument!r}: {pattern!r} is not a valid glob: {error}.") from None


def _as_source(source: Any) -> Any:
    if isinstance(source, str) and "://" in source:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(source)
    if isinstance(source, str | os.PathLike) or is_object_storage(source):
        return source
    raise RaiaInputError(
        "argument 'source' must be a local folder, a URL such as 's3://bucket/kb' or an ObjectStoragePath; "
        f"got {type(source).__name__} {source!r}."
    )


def _walk(source: Any, follow_symlinks: bool, skipped: list[str]) -> Iterator[SourceDocument]:
    if is_object_storage(source):
        yield from _walk_object_storage(source)
    else:
        yield from _walk_local(Path(os.fspath(source)), follow_symlinks, skipped)


def _walk_local(root: Path, follow_symlinks: bool, skipped: list[str]) -> Iterator[SourceDocument]:
    if not root.is_dir():
        problem = "is not a folder" if root.exists() else "does not exist"
        raise RaiaInputError(f"argument 'source': {str(root)!r} {problem}; name the folder of documents to mirror.")
    inside = SourceRoot(root, follow_symlinks=follow_symlinks)
    seen: set[str] = set()  # real folders walked: a link back up would otherwise loop forever
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and inside.admits(Path(folder) / name)
        )
        for name in files:
            path = Path(folder) / name
            if name.startswith(".") or not inside.admits(path) or not path.is_file():
                continue
            stat = path.stat()
            yield SourceDocument(
                relative=path.relative_to(root).as_posix(),
                target=path,
                location=canonical_location(path),
                size=stat.st_size,
                version=str(stat.st_mtime_ns),
            )
    skipped.extend(Path(path).relative_to(root).as_posix() for path in inside.skipped)


def _walk_object_storage(root: Any) -> Iterator[SourceDocument]:
    text = str(root)
    try:
        if not root.is_dir():
            problem = "is a file, not a folder" if root.is_file() else "does not exist or holds no file"
            raise RaiaInputError(f"argument 'source': {text!r} {problem}; name the prefix of the documents to mirror.")
        base = str(root.path).rstrip("/")
        found: Mapping[str, Mapping[str, Any]] = root.fs.find(base, detail=True)
    except RaiaInputError:
        raise
    except Exception as error:  # fsspec raises its backend's own errors (credentials, permissions...)
        raise RaiaInputError(f"argument 'source': {text!r} cannot be listed: {type(error).__name__}: {error}") from None
    for key, info in found.items():
        relative = key[len(base) :].lstrip("/")
        if info.get("type", "file") != "file" or not relative or _hidden(relative.split("/")):
            continue
        target = root / relative
        yield SourceDocument(
            relative=relative,
            target=target,
            location=canonical_location(target),
            size=int(info.get("size") or 0),
            version=version_from_info(info),
        )


def _hidden(parts: Iterable[str]) -> bool:
    return any(part.startswith(".") for part in parts)


def _check_names(documents: list[SourceDocument]) -> None:
    by_name: dict[str, list[str]] = {}
    for document in documents:
        by_name.setdefault(document.name, []).append(document.relative)
    clashes = [f"{name} ({', '.join(sorted(paths))})" for name, paths in sorted(by_name.items()) if len(paths) > 1]
    if clashes:
        shown = "; ".join(clashes[:MAX_NAMED]) + (
            f"; ... and {len(clashes) - MAX_NAMED} more" if len(clashes) > MAX_NAMED else ""
        )
        raise RaiaInputError(
            f"argument 'source': raia stores a file under its base name only, so these files would collide: "
            f"{shown}. Rename them, or narrow 'include'/'exclude' so that each name is kept once."
        )
