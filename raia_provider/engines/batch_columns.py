"""What a batch's output file is: its format, and for a table (CSV, Parquet) its columns and their types.

JSONL (the default) needs neither: each line carries its own fields. A warehouse load wants a table instead,
whose columns are fixed before the first row is written, and the batch writes its first row long before it
has read its last record. So the columns come from the first pass over the input
(:meth:`~raia_provider.engines.batch_pipeline.BatchPlan.survey`, which reads every row before any request
anyway): :class:`RecordFields` sees each record in range and keeps the union of their field names, in the
order they first appear, and what kind of value each holds. Nothing else of a record is kept.

The columns are then the record fields, ``row_number`` (when rows have no key field), the answer columns of an
output schema, and the result fields: the keys of the JSONL line, in its order. A record missing a field gets
an empty cell (a null). Since the first pass saw every record, a record with a field the header lacks means
the input changed between the passes; the writers refuse it (:mod:`~raia_provider.engines.batch_writers`)
rather than drop the value.

A column's kind is ``boolean``, ``integer``, ``number`` or ``string``. Record fields take the kind their
values share (integers and numbers mixed are ``number``), answer columns the type their output schema gives
them (``string``, ``integer``, ``number``, ``boolean``, optionally nullable); anything else (nested values,
mixed kinds, a schema without a simple type) is ``string``, holding a string as it is and any other value as
its JSON text. Nulls are allowed everywhere. CSV has no types, so only Parquet uses the kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from raia_provider.exceptions import RaiaInputError

if TYPE_CHECKING:
    from raia_provider.engines.answers import AnswerShape

OutputFileFormat = Literal["jsonl", "csv", "parquet"]
OUTPUT_FILE_FORMATS: Final = ("jsonl", "csv", "parquet")
ColumnKind = Literal["boolean", "integer", "number", "string"]
#: The output file's format by its suffix; any other suffix is JSONL.
_SUFFIXES: Final[dict[str, OutputFileFormat]] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: The most record fields a table output takes: past it, the input is not a table.
MAX_FIELDS: Final = 10_000
#: The integers a Parquet ``int64`` holds.
INT64_RANGE: Final = range(-(2**63), 2**63)
_SCHEMA_KINDS: Final[dict[str, ColumnKind]] = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "number",
    "string": "string",
}
#: The kinds of the columns every row has, besides the record's and the answer's.
ADDED_KINDS: Final[dict[str, ColumnKind]] = {
    "row_number": "integer",
    "response": "string",
    "total_tokens": "integer",
    "status": "string",
    "error": "string",
}
PARQUET_INSTALL: Final = "pip install 'airflow-provider-raia[parquet]'"


def check_output_file_format(value: Any, owner: str = "") -> None:
    """Refuse an ``output_file_format`` that is none of the formats (no I/O, no import).

    :param value: the argument.
    :param owner: who is asking, for the message (e.g. ``RaiaBatchPromptOperator 'enrich'``).
    :raises RaiaInputError: naming the argument, the value and what is allowed.
    """
    if value is not None and value not in OUTPUT_FILE_FORMATS:
        who = f"{owner}: " if owner else ""
        raise RaiaInputError(
            f"{who}argument 'output_file_format' must be one of {OUTPUT_FILE_FORMATS!r} or None (from "
            f"output_path's suffix: .csv, .parquet or .pq, else jsonl), got {value!r}."
        )


def output_file_format_of(value: Any, target: Any) -> OutputFileFormat:
    """The format to write: ``value``, or (``None``) the one ``target``'s suffix names; Parquet needs pyarrow.

    :param value: the ``output_file_format`` argument.
    :param target: the output file (``Path`` or ``ObjectStoragePath``).
    :raises RaiaInputError: a format that is none of the formats, or Parquet without pyarrow installed.
    """
    check_output_file_format(value)
    file_format: OutputFileFormat = value or _SUFFIXES.get(Path(str(target.name)).suffix.lower(), "jsonl")
    if file_format == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401 - only whether it imports
        except ImportError as error:
            raise RaiaInputError(
                f"argument 'output_file_format': Parquet output ({str(target)!r}) needs pyarrow, which cannot be "
                f"imported here ({error}); install it with {PARQUET_INSTALL}, or write 'csv' or 'jsonl'."
            ) from None
    return file_format


class RecordFields:
    """The fields of the records in range, in the order they first appear, and the kind of each; see the module
    docs. Fed by the first pass, one record at a time."""

    def __init__(self) -> None:
        #: Each field, and the kind its values share (``None`` while every value seen was null).
        self.kinds: dict[str, ColumnKind | None] = {}

    def see(self, number: int, record: Mapping[str, Any]) -> None:
        """Take one record's fields.

        :param number: its row number, for the message.
        :param record: the record.
        :raises RaiaInputError: more than :data:`MAX_FIELDS` fields in all.
        """
        kinds = self.kinds
        for name, value in record.items():
            if value is None:
                kinds.setdefault(name, None)
                continue
            kind = _kind_of(value)
            if name not in kinds:
                if len(kinds) >= MAX_FIELDS:
                    raise RaiaInputError(
                        f"argument 'output_file_format': the records have more than {MAX_FIELDS} different "
                        f"fields (row {number} adds {name!r}), too many for a table's columns; write 'jsonl'."
                    )
                kinds[name] = kind
            elif kinds[name] != kind:
                kinds[name] = _merged(kinds[name], kind)


@dataclass(frozen=True)
class Column:
    """One column of a table output.

    :param name: its name (a record field, ``row_number``, an answer column or a result field).
    :param kind: what its values are (only Parquet uses it).
    """

    name: str
    kind: ColumnKind


def table_columns(
    fields: RecordFields, *, row_numbers: bool, answer_shape: AnswerShape | None, result_fields: tuple[str, ...]
) -> tuple[Column, ...]:
    """The columns of a table output, in the order of a JSONL line's keys; see the module docs.

    :param fields: what the first pass saw of the records.
    :param row_numbers: whether rows get ``row_number``.
    :param answer_shape: the structured answers' shape, or ``None``.
    :param result_fields: the fields every row ends with.
    """
    columns = [Column(name, kind or "string") for name, kind in fields.kinds.items()]
    if row_numbers:
        columns.append(Column("row_number", ADDED_KINDS["row_number"]))
    if answer_shape is not None:
        columns.extend(Column(name, kind) for name, kind in answer_kinds(answer_shape).items())
    columns.extend(Column(name, ADDED_KINDS[name]) for name in result_fields)
    return tuple(columns)


def answer_kinds(shape: AnswerShape) -> dict[str, ColumnKind]:
    """Each answer column and its kind, from the output schema (a model's JSON Schema for a pydantic model).

    :param shape: the structured answers' shape.
    """
    schema: Any = shape.schema
    if shape.model is not None:
        schema = shape.model.model_json_schema(mode="serialization")
    if shape.columns == ("answer",):
        return {"answer": _schema_kind(schema)}
    properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    return {name: _schema_kind(properties.get(name)) for name in shape.columns}


def _schema_kind(schema: Any) -> ColumnKind:
    if not isinstance(schema, Mapping):
        return "string"
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = [name for name in declared if name != "null"]
        declared = declared[0] if len(declared) == 1 else None
    if declared is None:
        choices = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(choices, list):
            others = [
                choice for choice in choices if not (isinstance(choice, Mapping) and choice.get("type") == "null")
            ]
            return _schema_kind(others[0]) if len(others) == 1 else "string"
    return _SCHEMA_KINDS.get(declared, "string") if isinstance(declared, str) else "string"


def _kind_of(value: Any) -> ColumnKind:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if value in INT64_RANGE else "string"
    if isinstance(value, float):
        return "number"
    return "string"


def _merged(old: ColumnKind | None, new: ColumnKind) -> ColumnKind:
    if old is None:
        return new
    return "number" if {old, new} == {"integer", "number"} else "string"
