"""A batch's documents: the file each row names in its ``file_field``, found and checked before any request.

"For each of these 2,000 invoices, extract the fields" is one batch: each row's ``file_field`` holds a path
or URL (``s3://...``, ``file://...``) of one file, uploaded through raia's signed URL just before the row's
prompt and attached to it. The first pass finds and checks every row's file, so a typo fails the task before
anything is sent; the file's identity (location, size, modification time) joins the prompt's digest, so a
changed file is asked again and an unchanged one answered by an earlier try is neither uploaded nor asked.
"""

from __future__ import annotations

import os
from typing import Final

from raia_provider.engines.batch_input import Row
from raia_provider.engines.source_files import SourceFile, is_object_storage, resolve_sources
from raia_provider.exceptions import RaiaInputError

#: Rows a file error shows in full; the rest are counted.
SHOWN_ROWS: Final = 3


class RowFiles:
    """Find each row's file.

    :param field: the record field that names the row's file.
    :param content_type: one MIME type for every file (checked when the operator is built); guessed from each
        name when ``None``.
    """

    def __init__(self, field: str, content_type: str | None = None) -> None:
        self.field = field
        self.content_type = content_type

    def find(self, row: Row) -> SourceFile:
        """The row's file, checked (it exists, is a file, can be read).

        :param row: the row.
        :raises RaiaInputError: the field is missing or blank, or names no readable file (the message names
            neither the row nor the argument; :class:`FileProblems` adds them).
        """
        value = row.record.get(self.field)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise RaiaInputError("the field is missing or blank")
        if not (isinstance(value, str | os.PathLike) or is_object_storage(value)):
            raise RaiaInputError(f"the field holds {type(value).__name__} {value!r}, not a path or URL")
        try:
            selection = resolve_sources(value, argument="file_field", content_type=self.content_type)
        except RaiaInputError as error:
            raise RaiaInputError(str(error).removeprefix("argument 'file_field': ").rstrip(".")) from None
        if len(selection.files) != 1:
            raise RaiaInputError(f"{str(value)!r} names {len(selection.files)} files; a row attaches one")
        (found,) = selection.files
        return found


class FileProblems:
    """The rows whose file cannot be found or read, gathered over the whole input for one error.

    :param field: the ``file_field``, for the message.
    """

    def __init__(self, field: str) -> None:
        self.field = field
        self.failing = 0
        self._shown: list[str] = []

    def add(self, row: Row, problem: str) -> None:
        """Count a row whose file cannot be used.

        :param row: the row.
        :param problem: what is wrong with it.
        """
        self.failing += 1
        if len(self._shown) < SHOWN_ROWS:
            self._shown.append(f"row {row.number} (key {row.key!r}): {problem}")

    def error(self, rows: int) -> RaiaInputError:
        """The error that fails the task; only when :attr:`failing` is above 0.

        :param rows: how many rows the batch covers.
        """
        more = self.failing - len(self._shown)
        return RaiaInputError(
            f"argument 'file_field' ({self.field!r}): {self.failing} of {rows} rows name no file that can be "
            "read; nothing was sent.\n  "
            + "\n  ".join(self._shown)
            + (f"\n  ... and {more} more row{'s' if more > 1 else ''}" if more else "")
            + "\nEach row's field must hold one file's local path or URL (s3://..., gs://..., file://...)."
        )
