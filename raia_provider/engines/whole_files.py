"""Files that readers see whole or not at all, even when they are written a line at a time for an hour.

A batch writes its output as the answers arrive, so the file is open for the whole run; a reader (or the
next task) must still never see half of it, and a run that fails or is killed must not leave half of it
where the output belongs:

* a local file (a ``Path``, or an ``ObjectStoragePath`` on the local file system) is written under a hidden
  temporary name beside the target (``.<name>.<random>.tmp``), synced, and renamed over the target;
* an object-storage file is spooled to a local temporary file and uploaded in one stream when published.
  Streaming straight into the store would be no better: a store's multipart upload publishes on close, and
  closing is also what happens to an abandoned file when it is garbage-collected.

A run killed by ``SIGKILL`` can leave a local temporary file behind; :func:`remove_leftovers` removes those
of one target (the batch calls it when it starts writing that output again).
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import IO, Any, Final

from raia_provider.engines.source_files import local_path

#: Write buffer: one system call per MiB, not per line.
_BUFFER: Final = 1024 * 1024


class WholeFile:
    """A file written as a stream and published whole; see the module docs.

    :param target: the ``Path`` or ``ObjectStoragePath`` to publish to.
    :param binary: written as bytes (e.g. by a Parquet writer) instead of UTF-8 text.
    """

    def __init__(self, target: Any, *, binary: bool = False) -> None:
        self.target = target
        self.binary = binary
        self._local = local_path(target)
        self._temporary: Path | None = None
        self._handle: IO[Any]
        encoding = None if binary else "utf-8"
        if self._local is not None:
            self._local.parent.mkdir(parents=True, exist_ok=True)
            self._temporary = self._local.with_name(f".{self._local.name}.{uuid.uuid4().hex}.tmp")
            self._handle = self._temporary.open("wb" if binary else "w", buffering=_BUFFER, encoding=encoding)
        else:
            self._handle = tempfile.TemporaryFile("w+b" if binary else "w+", buffering=_BUFFER, encoding=encoding)  # noqa: SIM115

    @property
    def stream(self) -> IO[Any]:
        """The open file, for a writer that needs a file object of its own (pyarrow's); it must not close it."""
        return self._handle

    def write(self, text: str) -> None:
        """Append ``text``.

        :param text: what to append.
        """
        self._handle.write(text)

    def publish(self) -> None:
        """Make the whole file appear at the target at once (replacing what was there)."""
        handle = self._handle
        handle.flush()
        if self._temporary is not None and self._local is not None:
            os.fsync(handle.fileno())
            handle.close()
            os.replace(self._temporary, self._local)
            return
        handle.seek(0)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        with self.target.open("wb") if self.binary else self.target.open("w", encoding="utf-8") as upload:
            shutil.copyfileobj(handle, upload, _BUFFER)
        handle.close()

    def abandon(self) -> None:
        """Throw away what was written; the target is left as it was."""
        self._handle.close()
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)


def write_whole(target: Any, text: str) -> None:
    """Write ``text`` to ``target`` so that a reader sees all of it or nothing.

    A local file goes through a :class:`WholeFile`; an object-storage write of one small text (one PUT) is
    all-or-nothing by itself.

    :param target: a ``Path`` or an ``ObjectStoragePath``.
    :param text: the whole content.
    """
    if local_path(target) is not None:
        whole = WholeFile(target)
        try:
            whole.write(text)
        except BaseException:
            whole.abandon()
            raise
        whole.publish()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        handle.write(text)


def remove_leftovers(target: Any) -> int:
    """Delete the temporary files that killed writers of a local ``target`` left beside it; return how many.

    :param target: the file a :class:`WholeFile` publishes to (object storage leaves nothing: it spools
        to anonymous temporary files).
    """
    local = local_path(target)
    if local is None or not local.parent.is_dir():
        return 0
    removed = 0
    for leftover in local.parent.glob(f".{glob.escape(local.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed
