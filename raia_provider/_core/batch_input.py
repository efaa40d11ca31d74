"""The rows of a batch: records given directly (from XCom) or read from a CSV or JSONL file, checked.

A file may be local (``str`` / ``pathlib.Path``) or in object storage (an Airflow ``ObjectStoragePath``, or a
string containing ``://``). Every problem is reported before any request, naming the row or line.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from raia_provider._core.source_files import canonical_location
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


def load_records(
    records: Any, input_path: Any, input_format: InputFormat | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Return the records and a description of where they came from; exactly one source must be given.

    :param records: a list of dicts (e.g. pulled from XCom), or ``None``.
    :param input_path: a CSV or JSONL file, or ``None``.
    :param input_format: ``csv`` or ``jsonl``; ``None`` reads it from the file's suffix.
    :raises RaiaInputError: naming the argument, the row or line, what was wrong and what is allowed.
    """
    if (records is None) == (input_path is None or input_path == ""):
        raise RaiaInputError(
            "Give the rows either as 'records' (a list of dicts, e.g. from XCom) or as 'input_path' "
            "(a CSV or JSONL file), not both and not neither."
        )
    if records is not None:
        checked = _checked_records(records)
        return checked, f"{len(checked)} records"
    path = as_path(input_path)
    fmt = input_format or _format_of(path)
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which would cling to the first column's name.
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
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
    rows = _parse_csv(text, path) if fmt == "csv" else _parse_jsonl(text, path)
    if not rows:
        raise RaiaInputError(f"argument 'input_path': {str(path)!r} holds no records.")
    return rows, str(path)


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


def _checked_records(records: Any) -> list[dict[str, Any]]:
    if isinstance(records, str | bytes) or not isinstance(records, Sequence):
        raise RaiaInputError(f"argument 'records' must be a list of dicts, got {type(records).__name__}.")
    if not records:
        raise RaiaInputError("argument 'records' is empty: there is nothing to ask.")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise RaiaInputError(
                f"argument 'records' item {index} must be a dict of fields, got {type(record).__name__}."
            )
    return [dict(record) for record in records]


def _parse_csv(text: str, path: Any) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise RaiaInputError(f"argument 'input_path': {str(path)!r} has no header row.")
    if len(set(reader.fieldnames)) != len(reader.fieldnames):
        raise RaiaInputError(f"argument 'input_path': {str(path)!r} repeats a column name: {reader.fieldnames}.")
    rows = []
    for row in reader:
        if None in row:  # more cells than columns
            raise RaiaInputError(
                f"argument 'input_path': {str(path)!r} line {reader.line_num} has more cells than the header."
            )
        rows.append(dict(row))
    return rows


def _parse_jsonl(text: str, path: Any) -> list[dict[str, Any]]:
    rows = []
    for line_number, line in enumerate(text.splitlines(), start=1):
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
        rows.append(record)
    return rows


def keyed_rows(records: list[dict[str, Any]], key_field: str | None, row_range: tuple[int, int] | None) -> list[Row]:
    """Number the records, pick the slice ``row_range`` and give each row its key; keys must be unique.

    :param records: every record of the input.
    :param key_field: the field whose value identifies a row, or ``None`` for the row number.
    :param row_range: ``(start, stop)`` row numbers to keep (``stop`` excluded), or ``None`` for all.
    :raises RaiaInputError: a record without the key field, an empty key, or a key used twice.
    """
    start, stop = row_range if row_range is not None else (0, len(records))
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for number in range(start, min(stop, len(records))):
        record = records[number]
        if key_field is None:
            key = str(number)
        else:
            value = record.get(key_field)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise RaiaInputError(
                    f"argument 'key_field': row {number} has no value for {key_field!r} "
                    f"(its fields: {sorted(record)[:10]})."
                )
            key = str(value)
            if key in seen:
                raise RaiaInputError(
                    f"argument 'key_field': rows {seen[key]} and {number} share the key {key!r}; "
                    f"a key must identify one row (or leave key_field unset to use row numbers)."
                )
            seen[key] = number
        rows.append(Row(number=number, key=key, record=record))
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
