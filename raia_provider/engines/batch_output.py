"""A batch's output: one row per input row, in input order, written as the answers arrive in any order.

Rows are asked concurrently and answered out of order, but the output promises input order. An
:class:`OrderedOutput` holds the rows from the oldest one still unanswered to the newest one started, and
writes each row as soon as every row before it has its own: at most ``limit`` rows (a small multiple of
``max_concurrency``) are ever held, whatever the table's size. When the oldest row is slow (retries, a long
async prompt) the batch starts no row more than ``limit`` ahead of it, and so waits for it.

Each output row is built here, once, as a dict (:meth:`OrderedOutput._write`), and laid out by the output's
format (:mod:`~raia_provider.engines.batch_writers`: a JSON line, a CSV row, a Parquet row).

What the task reports at the end stays small too: counts and tokens are added up as rows are written, the
first failed rows are kept for the error message, and the keys the exception lists
(``RaiaPartialFailureError.succeeded`` / ``failed``) go to an anonymous temporary file, read back only if
the task fails.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from raia_provider.engines.batch_input import Row
from raia_provider.engines.batch_runner import RowOutcome

if TYPE_CHECKING:
    from raia_provider.engines.answers import AnswerShape
    from raia_provider.engines.batch_writers import RowsFile

#: The fields each output row adds to its record.
RESULT_FIELDS: Final = ("response", "total_tokens", "status", "error")
#: How many failed rows the exception message names.
MAX_NAMED: Final = 5


@dataclass
class _Slot:
    row: Row
    outcome: RowOutcome | None = None
    #: A row the batch stopped before asking, and why it stopped.
    skipped: bool = False
    reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.outcome is not None or self.skipped


class OrderedOutput:
    """Write rows in input order as their outcomes arrive; see the module docs.

    :param file: where the rows go (published by the caller once the batch is done).
    :param limit: the most rows held at once.
    :param row_numbers: whether each row gets its ``row_number`` (when rows have no key field).
    :param answer_shape: when answers are structured, what gives each row its answer columns.
    """

    def __init__(
        self, file: RowsFile, *, limit: int, row_numbers: bool, answer_shape: AnswerShape | None = None
    ) -> None:
        self.file = file
        self.answer_shape = answer_shape
        self.limit = limit
        self.row_numbers = row_numbers
        self.counts = {"completed": 0, "failed": 0, "not_attempted": 0}
        self.total_tokens = 0
        #: The first failed rows, in input order: ``(row, error)``.
        self.first_failed: list[tuple[Row, str | None]] = []
        self._slots: deque[_Slot] = deque()
        self._unanswered: dict[str, _Slot] = {}
        self._changed = asyncio.Event()
        self._ledger = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in close()

    @property
    def rows(self) -> int:
        """Rows written so far."""
        return sum(self.counts.values())

    async def room(self, stopped: Callable[[], bool]) -> None:
        """Wait until fewer than ``limit`` rows are held, or until ``stopped()`` (woken by :meth:`wake`).

        :param stopped: whether the batch has stopped, so that no room is worth waiting for.
        """
        while len(self._slots) >= self.limit and not stopped():
            self._changed.clear()
            await self._changed.wait()

    def wake(self) -> None:
        """Wake :meth:`room` to look again (the batch stopped)."""
        self._changed.set()

    def add(
        self, row: Row, outcome: RowOutcome | None = None, *, skipped: bool = False, reason: str | None = None
    ) -> None:
        """Take the next row in input order: answered already (``outcome``), not attempted, or to be answered.

        :param row: the row.
        :param outcome: its outcome, when known now (an answer from the checkpoint).
        :param skipped: the row will not be asked: the batch has stopped.
        :param reason: why the batch stopped.
        """
        slot = _Slot(row, outcome, skipped, reason)
        self._slots.append(slot)
        if not slot.ready:
            self._unanswered[row.key] = slot
        self._write_ready()

    def settle(self, outcome: RowOutcome) -> None:
        """Record a row's final outcome (``completed`` or ``failed``).

        :param outcome: the outcome.
        """
        self._unanswered.pop(outcome.key).outcome = outcome
        self._write_ready()

    def give_up(self, reason: str | None) -> None:
        """Write the rows still unanswered as not attempted (the batch stopped before asking them).

        :param reason: why the batch stopped.
        """
        for slot in self._unanswered.values():
            slot.skipped, slot.reason = True, reason
        self._unanswered.clear()
        self._write_ready()

    def keys(self) -> tuple[list[str], list[dict[str, Any]]]:
        """The keys of the completed rows, and ``{"key", "error"}`` of the failed ones, in input order."""
        succeeded: list[str] = []
        failed: list[dict[str, Any]] = []
        self._ledger.seek(0)
        for line in self._ledger:
            key, status, error = json.loads(line)
            if status == "completed":
                succeeded.append(key)
            else:
                failed.append({"key": key, "error": error})
        return succeeded, failed

    def close(self) -> None:
        """Let go of the temporary key list."""
        self._ledger.close()

    def _write_ready(self) -> None:
        slots = self._slots
        if not slots or not slots[0].ready:
            return
        while slots and slots[0].ready:
            self._write(slots.popleft())
        self._changed.set()

    def _write(self, slot: _Slot) -> None:
        row, outcome = slot.row, slot.outcome
        result: dict[str, Any]
        if outcome is None:
            result = {"response": None, "total_tokens": None, "status": "not_attempted", "error": slot.reason}
            self.counts["not_attempted"] += 1
        else:
            result = {
                "response": outcome.response,
                "total_tokens": outcome.total_tokens,
                "status": outcome.status,
                "error": outcome.error,
            }
            self.counts[outcome.status] += 1
            self.total_tokens += outcome.total_tokens or 0
            self._ledger.write(json.dumps([row.key, outcome.status, outcome.error]) + "\n")
            if outcome.status == "failed" and len(self.first_failed) < MAX_NAMED:
                self.first_failed.append((row, outcome.error))
        numbered = {"row_number": row.number} if self.row_numbers else {}
        answer: dict[str, Any] = {}
        if self.answer_shape is not None:
            parsed = outcome.data if outcome is not None and outcome.status == "completed" else None
            answer = self.answer_shape.row_columns(parsed)
        self.file.write_row({**row.record, **numbered, **answer, **result})
