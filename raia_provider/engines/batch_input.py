"""The rows of a batch: records given directly (from XCom) or read from a CSV or JSONL file, checked.

A file may be local (``str`` / ``pathlib.Path``) or in object storage (an Airflow ``ObjectStoragePath``, or a
string containing ``://``). A file is read as a stream, a line at a time, and read again from the start each
time its :class:`RecordSource` is iterated: the batch goes over it twice (once to check every row before any
request, once to ask), so a million-row file never has to fit in memory. Every problem is reported before
any request, naming the row or line.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from raia_provider.engines.batch_keys import KeyCheck
from raia_provider.engines.source_files import canonical_location
from raia_provider.exceptions import RaiaInputError

InputFormat = Literal["csv", "jsonl"]
_SUFFIXES: dict[str, InputFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class Row:
    """One record of the batch.

    :param number: its 0-based position in the whole input (stable across chunks of the same input).
    :param key: what identifies it in the checkpoint and the output: the key field's value, as text, or the
        row number.
    :param record: the record's fields, as read.
    """

    number: int
    key: str
    record: dict[str, Any]


def as_path(location: Any) -> Any:
    """A local ``Path`` or an ``ObjectStoragePath`` for ``location`` (a string with ``://`` means object storage).

    :param location: a path, a URL string or an ``ObjectStoragePath``.
    """
    if isinstance(location, str) and "://" in location:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(location)
    if isinstance(location, str | os.PathLike):
        return Path(location)
    return location


class RecordSource:
    """The records of a batch, from the start each time it is iterated; a file is read lazily, line by line.

    Iterating raises :class:`RaiaInputError` at the first line that cannot be read, naming it.

    :param records: the checked records, or ``None`` to read ``path``.
    :param path: the file (``Path`` or ``ObjectStoragePath``).
    :param input_format: the file's format.
    """

    def __init__(self, records: Sequence[Mapping[str, Any]] | None, path: Any, input_format: InputFormat) -> None:
        self._records = records
        self._path = path
        self._format = input_format

    @property
    def origin(self) -> str:
        """Where the records come from, for the log: ``N records`` or the file."""
        return f"{len(self._records)} records" if self._records is not None else str(self._path)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._records is not None:
            return (dict(record) for record in self._records)  # a copy per row, made as it is needed
        return self._read()

    def empty(self) -> RaiaInputError:
        """The error for a source that turned out to hold no records."""
        return RaiaInputError(f"argument 'input_path': {str(self._path)!r} holds no records.")

    def _read(self) -> Iterator[dict[str, Any]]:
        path = self._path
        try:
            # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which would cling to the first
            # column's name.
            with path.open("r", encoding="utf-8-sig", newline="") as handle:
                # readline, not iteration: the file wrapper of Airflow 3.1's ObjectStoragePath is not iterable.
                lines = iter(handle.readline, "")
                yield from _parse_csv(lines, path) if self._format == "csv" else _parse_jsonl(lines, path)
        except FileNotFoundError:
            raise RaiaInputError(f"argument 'input_path': {str(path)!r} does not exist.") from None
        except IsADirectoryError:
            raise RaiaInputError(
                f"argument 'input_path': {str(path)!r} is a directory; name one .csv, .jsonl or .ndjson file "
                "(to batch several files, map the operator over them)."
            ) from None
        except (OSError, UnicodeDecodeError) as error:
            raise RaiaInputError(
                f"argument 'input_path': {str(path)!r} cannot be read as UTF-8 text: {type(error).__name__}: {error}"
            ) from None


def record_source(records: Any, input_path: Any, input_format: InputFormat | None = None) -> RecordSource:
    """Check where the records come from (exactly one source) without reading a file yet.

    :param records: a list of dicts (e.g. pulled from XCom), or ``None``.
    :param input_path: a CSV or JSONL file, or ``None``.
    :param input_format: ``csv`` or ``jsonl``; ``None`` reads it from the file's suffix.
    :raises RaiaInputError: naming the argument, what was wrong and what is allowed.
    """
    if (records is None) == (input_path is None or input_path == ""):
        raise RaiaInputError(
            "Give the rows either as 'records' (a list of dicts, e.g. from XCom) or as 'input_path' "
            "(a CSV or JSONL file), not both and not neither."
        )
    if records is not None:
        return RecordSource(_checked_records(records), None, "jsonl")
    path = as_path(input_path)
    return RecordSource(None, path, input_format or _format_of(path))


def load_records(
    records: Any, input_path: Any, input_format: InputFormat | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Return every record in a list and a description of where they came from; exactly one source must be given.

    For small inputs and tests; the batch itself streams a :func:`record_source`.

    :param records: a list of dicts (e.g. pulled from XCom), or ``None``.
    :param input_path: a CSV or JSONL file, or ``None``.
    :param input_format: ``csv`` or ``jsonl``; ``None`` reads it from the file's suffix.
    :raises RaiaInputError: naming the argument, the row or line, what was wrong and what is allowed.
    """
    source = record_source(records, input_path, input_format)
    loaded = list(source)
    if not loaded:
        raise source.empty()
    return loaded, source.origin


def refuse_writing_over_input(input_path: Any, *, output: Any, checkpoint: Any) -> None:
    """Refuse an output file or checkpoint folder that is the input itself: the batch would destroy what it reads.

    Compared after resolving (links, ``..``, relative paths) for local files, by URL for object storage.

    :param input_path: the input file (``Path`` or ``ObjectStoragePath``).
    :param output: the output file.
    :param checkpoint: the checkpoint folder.
    :raises RaiaInputError: naming the argument that points at the input.
    """
    where = canonical_location(input_path)
    for argument, target in (("output_path", output), ("checkpoint_path", checkpoint)):
        location = canonical_location(target)
        if location == where or where.startswith(location.rstrip("/") + "/"):
            raise RaiaInputError(
                f"argument {argument!r}: {str(target)!r} is the input file {str(input_path)!r} (or holds it); "
                "the batch would overwrite what it reads, and a retry could not read its rows again. "
                "Write the answers to another file."
            )


def _format_of(path: Any) -> InputFormat:
    suffix = Path(str(path.name)).suffix.lower()
    if suffix not in _SUFFIXES:
        raise RaiaInputError(
            f"argument 'input_path': cannot tell the format of {str(path)!r} from its suffix; "
            f"name a .csv, .jsonl or .ndjson file, or pass input_format='csv' or 'jsonl'."
        )
    return _SUFFIXES[suffix]


def _checked_records(records: Any) -> Sequence[Mapping[str, Any]]:
    if isinstance(records, str | bytes) or not isinstance(records, Sequence):
        raise RaiaInputError(f"argument 'records' must be a list of dicts, got {type(records).__name__}.")
    if not records:
        raise RaiaInputError("argument 'records' is empty: there is nothing to ask.")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise RaiaInputError(
                f"argument 'records' item {index} must be a dict of fields, got {type(record).__name__}."
            )
    return records


def _parse_csv(handle: Iterable[str], path: Any) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(handle)
    if not reader.fieldnames:
        raise RaiaInputError(f"argument 'input_path': {str(path)!r} has no header row.")
    if len(set(reader.fieldnames)) != len(reader.fieldnames):
        raise RaiaInputError(f"argument 'input_path': {str(path)!r} repeats a column name: {reader.fieldnames}.")
    for row in reader:
        if None in row:  # more cells than columns
            raise RaiaInputError(
                f"argument 'input_path': {str(path)!r} line {reader.line_num} has more cells than the header."
            )
        yield row


def _parse_jsonl(handle: Iterable[str], path: Any) -> Iterator[dict[str, Any]]:
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise RaiaInputError(
                f"argument 'input_path': {str(path)!r} line {line_number} is not JSON: {error.msg}."
            ) from None
        if not isinstance(record, dict):
            raise RaiaInputError(
                f"argument 'input_path': {str(path)!r} line {line_number} must be a JSON object, "
                f"got {type(record).__name__}."
            )
        yield record


def numbered(
    records: Iterable[dict[str, Any]], row_range: tuple[int, int] | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The records with their 0-based row numbers, only those in ``row_range``; reads no further than its end.

    :param records: every record of the input, in order.
    :param row_range: ``(start, stop)`` row numbers to keep (``stop`` excluded), or ``None`` for all.
    """
    start, stop = row_range if row_range is not None else (0, None)
    for number, record in enumerate(records):
        if stop is not None and number >= stop:
            return
        if number >= start:
            yield number, record


def keyed_rows(records: list[dict[str, Any]], key_field: str | None, row_range: tuple[int, int] | None) -> list[Row]:
    """Number the records, pick the slice ``row_range`` and give each row its key; keys must be unique.

    :param records: every record of the input.
    :param key_field: the field whose value identifies a row, or ``None`` for the row number.
    :param row_range: ``(start, stop)`` row numbers to keep (``stop`` excluded), or ``None`` for all.
    :raises RaiaInputError: a record without the key field, an empty key, or a key used twice.
    """
    check = KeyCheck(key_field)
    rows = [
        Row(number, key, record)
        for number, record in numbered(records, row_range)
        if (key := check.see(number, record)) is not None
    ]
    check.raise_first_problem(lambda: ((row.number, row.key) for row in rows))
    return rows


def check_row_range(row_range: Any) -> tuple[int, int] | None:
    """Validate ``row_range``: ``None``, or ``[start, stop]`` with ``0 <= start < stop``.

    :param row_range: the operator's argument.
    """
    if row_range is None:
        return None
    if (
        isinstance(row_range, str | bytes)
        or not isinstance(row_range, Sequence)
        or len(row_range) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in row_range)
        or not 0 <= row_range[0] < row_range[1]
    ):
        raise RaiaInputError(
            f"argument 'row_range' must be [start, stop] row numbers with 0 <= start < stop, got {row_range!r}."
        )
    return int(row_range[0]), int(row_range[1])
