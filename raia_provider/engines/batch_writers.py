"""How a batch's rows reach its output file: one writer per format, all fed the same rows.

:class:`~raia_provider.engines.batch_output.OrderedOutput` builds each output row once, as a dict (the
record's fields, ``row_number``, the answer columns, the result fields), and hands it to a :class:`RowsFile`;
the writers only lay that dict out, so JSONL, CSV and Parquet hold the same rows, in the same order, with the
same values. Each writes through a :class:`~raia_provider.engines.whole_files.WholeFile`, so every format is
published whole or not at all.

* JSONL: one JSON object per line, the record's own fields first.
* CSV (stdlib ``csv``, UTF-8, header row): the columns of
  :func:`~raia_provider.engines.batch_columns.table_columns`; a string as it is, a null as an empty cell,
  anything else (numbers, booleans, objects, lists) as its JSON text.
* Parquet (``pyarrow``, imported only here and only for Parquet): row groups of :data:`ROWS_PER_GROUP` rows
  streamed through one ``ParquetWriter``, so at most one group is in memory; a schema fixed before the first
  row from the columns' kinds.

A row with a field the header lacks is refused (:class:`~raia_provider.exceptions.RaiaInputError`, the
output abandoned, the answers kept in the checkpoint), never written without it: the first pass saw every
record, so such a row means the input changed while the batch ran.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from raia_provider.engines.batch_columns import INT64_RANGE, Column, OutputFileFormat, RecordFields, table_columns
from raia_provider.engines.batch_output import RESULT_FIELDS
from raia_provider.engines.whole_files import WholeFile
from raia_provider.exceptions import RaiaInputError

if TYPE_CHECKING:
    from raia_provider.engines.answers import AnswerShape

#: Rows per Parquet row group: what a Parquet output holds in memory at most.
ROWS_PER_GROUP: Final = 4096
#: How much of a value an error message quotes.
_QUOTED: Final = 80


class RowsFile(Protocol):
    """Where an :class:`~raia_provider.engines.batch_output.OrderedOutput` writes its rows, in order."""

    def write_row(self, row: Mapping[str, Any]) -> None:
        """Append one row."""

    def publish(self) -> None:
        """Make the whole file appear at its target at once."""

    def abandon(self) -> None:
        """Throw away what was written; the target is left as it was."""


class OutputLayout:
    """The output file a batch writes: its format and, for a table, its columns; see the module docs.

    :param file_format: ``jsonl``, ``csv`` or ``parquet``.
    :param row_numbers: whether rows get ``row_number`` (when they have no key field).
    :param answer_shape: the structured answers' shape, or ``None``.
    """

    def __init__(self, file_format: OutputFileFormat, *, row_numbers: bool, answer_shape: AnswerShape | None) -> None:
        self.file_format = file_format
        self.row_numbers = row_numbers
        self.answer_shape = answer_shape
        #: What the first pass must tell about the records (``None`` for JSONL, which needs nothing).
        self.fields = RecordFields() if file_format != "jsonl" else None

    def open(self, target: Any) -> RowsFile:
        """Start writing the output (after the first pass).

        :param target: the ``Path`` or ``ObjectStoragePath`` to publish to.
        """
        if self.fields is None:
            return JsonLinesFile(target)
        columns = table_columns(
            self.fields, row_numbers=self.row_numbers, answer_shape=self.answer_shape, result_fields=RESULT_FIELDS
        )
        return CsvFile(target, columns) if self.file_format == "csv" else ParquetFile(target, columns)


class JsonLinesFile:
    """One JSON line per row.

    :param target: the ``Path`` or ``ObjectStoragePath`` to publish to.
    """

    def __init__(self, target: Any) -> None:
        self.file = WholeFile(target)

    def write_row(self, row: Mapping[str, Any]) -> None:
        """Append one row as a JSON line.

        :param row: the row.
        """
        self.file.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    def publish(self) -> None:
        """Publish the file."""
        self.file.publish()

    def abandon(self) -> None:
        """Throw the file away."""
        self.file.abandon()


class _TableFile:
    """A file of fixed columns: refuses a row with a field the header lacks."""

    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.columns = columns
        self._names = frozenset(column.name for column in columns)
        #: Rows written so far.
        self.rows = 0

    def _check(self, row: Mapping[str, Any]) -> None:
        if not self._names.issuperset(row):
            extra = [name for name in row if name not in self._names]
            raise RaiaInputError(
                f"The input ('input_path' or 'records') changed while the batch ran: row {self.rows} of the output "
                f"has the field(s) {extra}, which the first pass over the input did not see, so the output's header "
                "lacks them. Nothing was written; the answers are checkpointed, so running the task again (on an "
                "input that stays put until the batch is done) asks only what is unanswered."
            )
        self.rows += 1


class CsvFile(_TableFile):
    """A CSV file with a header row; see the module docs.

    :param target: the ``Path`` or ``ObjectStoragePath`` to publish to.
    :param columns: its columns, in order.
    """

    def __init__(self, target: Any, columns: tuple[Column, ...]) -> None:
        super().__init__(columns)
        self.file = WholeFile(target)
        self._writer = csv.writer(self.file)
        self._writer.writerow(column.name for column in columns)

    def write_row(self, row: Mapping[str, Any]) -> None:
        """Append one row.

        :param row: the row.
        """
        self._check(row)
        self._writer.writerow(
            "" if (text := cell_text(row.get(column.name))) is None else text for column in self.columns
        )

    def publish(self) -> None:
        """Publish the file."""
        self.file.publish()

    def abandon(self) -> None:
        """Throw the file away."""
        self.file.abandon()


class ParquetFile(_TableFile):
    """A Parquet file written a row group at a time; see the module docs.

    :param target: the ``Path`` or ``ObjectStoragePath`` to publish to.
    :param columns: its columns, in order.
    :param rows_per_group: the rows of each row group (the most held in memory).
    """

    def __init__(self, target: Any, columns: tuple[Column, ...], *, rows_per_group: int = ROWS_PER_GROUP) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(columns)
        self._table = pa.Table.from_pydict
        types = {"boolean": pa.bool_(), "integer": pa.int64(), "number": pa.float64(), "string": pa.string()}
        self.schema = pa.schema([pa.field(column.name, types[column.kind], nullable=True) for column in columns])
        self.rows_per_group = rows_per_group
        self.file = WholeFile(target, binary=True)
        self._writer = pq.ParquetWriter(self.file.stream, self.schema)
        self._buffer: list[list[Any]] = [[] for _ in columns]

    def write_row(self, row: Mapping[str, Any]) -> None:
        """Add one row to the current row group, and write the group once it is full.

        :param row: the row.
        """
        self._check(row)
        for column, values in zip(self.columns, self._buffer, strict=True):
            value = row.get(column.name)
            try:
                values.append(_parquet_value(column.kind, value))
            except (TypeError, ValueError, OverflowError):
                raise RaiaInputError(
                    f"argument 'output_file_format': Parquet column {column.name!r} is {column.kind} (from the "
                    f"input's values or the output schema), but row {self.rows - 1} of the output holds "
                    f"{_quoted(value)}. Nothing was written; the answers are checkpointed, so running the task "
                    "again with output_file_format='jsonl' or 'csv' (or a schema giving the property as a string) "
                    "asks only what is unanswered."
                ) from None
        if len(self._buffer[0]) >= self.rows_per_group:
            self._flush()

    def publish(self) -> None:
        """Write the last row group and the footer, and publish the file."""
        self._flush()
        self._writer.close()
        self.file.publish()

    def abandon(self) -> None:
        """Throw the file away."""
        with contextlib.suppress(Exception):  # what it writes is thrown away with the file
            self._writer.close()
        self.file.abandon()

    def _flush(self) -> None:
        if not self._buffer[0]:
            return
        group = dict(zip(self.schema.names, self._buffer, strict=True))
        self._writer.write_table(self._table(group, schema=self.schema))
        self._buffer = [[] for _ in self.columns]


def cell_text(value: Any) -> str | None:
    """A value as a table's text: a string as it is, ``None`` as ``None``, anything else as its JSON text.

    :param value: a row's value.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _parquet_value(kind: str, value: Any) -> Any:
    """``value`` as the column's kind can hold it; raises ``ValueError`` if it cannot."""
    if value is None:
        return None
    if kind == "string":
        return cell_text(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a JSON Schema "integer" may be written 3.0
        if isinstance(value, int) and value in INT64_RANGE:
            return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(value)


def _quoted(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTED else text[:_QUOTED] + "..."
