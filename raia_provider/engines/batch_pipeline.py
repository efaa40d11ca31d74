"""A batch's two passes over its input: check every row before any request, then stream the rows to raia.

Nothing of the input is kept between or during the passes, so a batch's memory is bounded by its
concurrency and checkpoint interval, not by its rows:

1. :meth:`BatchPlan.survey` reads the whole input once: every line parses, every row in range has a key and no
   key repeats (:class:`~raia_provider.engines.batch_keys.KeyCheck`, 8 bytes a row), no record has a field the
   output adds, and the template renders for every row. Any problem fails the task here, before any request;
   so does a row whose ``file_field`` names no readable file
   (:class:`~raia_provider.engines.batch_files.RowFiles`). It also counts the rows a checkpoint already
   answers, for the log, and, for a CSV or Parquet output, collects the records' fields
   (:class:`~raia_provider.engines.batch_columns.RecordFields`): the output's columns, known before its first
   row.
2. :meth:`BatchPlan.ask` reads the input again, renders each row again (the same row renders the same
   prompt) and admits it to the :class:`~raia_provider.engines.batch_output.OrderedOutput`: a row answered by
   an earlier try goes straight to the output with its checkpointed answer; any other is handed to the
   :class:`~raia_provider.engines.batch_runner.BatchRunner` as a worker becomes free, but never more than
   the output's ``limit`` rows ahead of the oldest row still unanswered. Once the batch stops (too many
   failures), the rest of the rows are written as not attempted, or with their checkpointed answer.

The input must not change between the two passes (it is read twice; a retry reads it again anyway).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from raia_provider.engines.batch_checkpoint import SavedAnswers
from raia_provider.engines.batch_columns import RecordFields
from raia_provider.engines.batch_files import FileProblems, RowFiles
from raia_provider.engines.batch_input import RecordSource, Row, numbered
from raia_provider.engines.batch_keys import KeyCheck
from raia_provider.engines.batch_output import OrderedOutput
from raia_provider.engines.batch_prompts import PromptRenderer, TemplateProblems
from raia_provider.engines.batch_runner import BatchRunner, PromptJob, RowOutcome
from raia_provider.exceptions import RaiaAnswerFormatError, RaiaInputError

if TYPE_CHECKING:
    from raia_provider._core.multipart import FilePart
    from raia_provider.engines.answers import AnswerShape


@dataclass(frozen=True)
class Survey:
    """What the first pass found.

    :param rows: the rows in range.
    :param reused: how many of them the checkpoint answers already (for the log; the second pass decides).
    """

    rows: int
    reused: int

    @property
    def to_ask(self) -> int:
        """The rows to ask."""
        return self.rows - self.reused


class BatchPlan:
    """The rows of one batch, read and checked (:meth:`survey`), then asked (:meth:`ask`); see the module docs.

    :param source: the records.
    :param key_field: the field that identifies a row, or ``None`` for the row number.
    :param row_range: ``(start, stop)`` row numbers to take, or ``None`` for all.
    :param renderer: renders each row's prompt and its digest.
    :param saved: the checkpoint's answers from earlier tries.
    :param added_fields: the fields the output adds to each record, which a record must not have.
    :param row_range_argument: ``row_range`` as the user gave it, for the error message.
    :param fields: told every record in range by the first pass (a table output's columns), or ``None``.
    :param files: finds each row's file (``file_field``), or ``None`` when rows attach none.
    :param answer_shape: how answers are parsed (``None`` for text).
    """

    def __init__(
        self,
        source: RecordSource,
        *,
        key_field: str | None,
        row_range: tuple[int, int] | None,
        renderer: PromptRenderer,
        saved: SavedAnswers,
        added_fields: frozenset[str],
        row_range_argument: Any = None,
        fields: RecordFields | None = None,
        files: RowFiles | None = None,
        answer_shape: AnswerShape | None = None,
    ) -> None:
        self.source = source
        self.row_range = row_range
        self.renderer = renderer
        self.saved = saved
        self.added_fields = added_fields
        self.row_range_argument = row_range_argument
        self.fields = fields
        self.files = files
        #: How answers are parsed; a checkpointed answer is re-parsed with it before it is reused.
        self.answer_shape = answer_shape
        self._keys = KeyCheck(key_field)
        #: Rows the second pass took from the checkpoint.
        self.reused = 0
        #: Every field name the first pass saw in the rows in range.
        self.field_names: set[str] = set()

    def survey(self) -> Survey:
        """Read and check every row (the first pass); nothing is sent.

        :raises RaiaInputError: naming the line, row, field or argument: the first problem found, in the
            order of the checks above.
        """
        check = KeyCheck(self._keys.key_field)
        start, stop = self.row_range if self.row_range is not None else (0, None)
        total = rows = reused = 0
        problems = TemplateProblems()
        file_problems = FileProblems(self.files.field if self.files is not None else "")
        for number, record in enumerate(self.source):
            total += 1
            if number < start or (stop is not None and number >= stop):
                continue  # read all the same: a bad line anywhere in the file fails every chunk, as it always has
            rows += 1
            key = check.see(number, record)
            self.field_names.update(record)
            if self.fields is not None:
                self.fields.see(number, record)
            if key is None:
                continue
            row = Row(number, key, record)
            try:
                prompt = self.renderer.render(row)
            except Exception as error:  # jinja2's UndefinedError, TypeError from a filter ...
                problems.add(row, f"{type(error).__name__}: {error}")
                continue
            if not prompt.strip():
                problems.add(row, "the prompt renders blank")
                continue
            identity = None
            if self.files is not None:
                try:
                    identity = self.files.find(row).identity
                except RaiaInputError as error:
                    file_problems.add(row, str(error))
                    continue
            if len(self.saved) and self.saved.answered(key, self.renderer.digest(prompt, identity)):
                reused += 1
        if not total:
            raise self.source.empty()
        check.raise_first_problem(self._numbered_keys)
        if not rows:
            raise RaiaInputError(f"argument 'row_range': {self.row_range_argument!r} selects none of the {total} rows.")
        self.refuse_collisions(self.added_fields)
        if problems.failing:
            raise problems.error(rows)
        if file_problems.failing:
            raise file_problems.error(rows)
        return Survey(rows, reused)

    def refuse_collisions(self, added: frozenset[str] | set[str]) -> None:
        """Refuse records that already have a field the output adds (after the first pass).

        :param added: the fields the output adds to each record.
        :raises RaiaInputError: naming the fields.
        """
        collisions = self.field_names.intersection(added)
        if collisions:
            raise RaiaInputError(
                f"The records already have the field(s) {sorted(collisions)}, which the output adds to each record; "
                "rename them before the batch (e.g. in the query or an upstream task)."
            )

    async def ask(self, runner: BatchRunner, output: OrderedOutput) -> None:
        """Read the rows again and ask those without an answer; every row ends up in ``output``, in order.

        The runner must pass each final outcome to ``output.settle`` and wake ``output`` when it stops.

        :param runner: asks the rows.
        :param output: the output window.
        :raises RaiaError: a batch-stopping error from the runner (the output is then incomplete).
        """
        rows = self._rows()

        def stopped() -> bool:
            return runner.stopped_reason is not None

        async def jobs() -> AsyncGenerator[PromptJob, None]:
            for row, prompt, sha, file in rows:
                await output.room(stopped)
                job = self._admit(output, row, prompt, sha, file, ask=not stopped(), reason=runner.stopped_reason)
                if stopped():
                    return
                if job is not None:
                    yield job

        source = jobs()
        await runner.run(source)
        await source.aclose()  # not on an error: a worker may still be inside it
        output.give_up(runner.stopped_reason)  # taken by a worker after the stop, never asked
        for row, prompt, sha, file in rows:
            self._admit(output, row, prompt, sha, file, ask=False, reason=runner.stopped_reason)

    def _admit(
        self,
        output: OrderedOutput,
        row: Row,
        prompt: str,
        sha: str,
        file: FilePart | None,
        *,
        ask: bool,
        reason: str | None,
    ) -> PromptJob | None:
        line = self.saved.line(row.key, sha) if len(self.saved) else None
        if line is not None and line.get("status") == "completed":
            reused = self._as_asked_now(RowOutcome.from_json(line))
            if reused is not None:
                self.reused += 1
                output.add(row, reused)
                return None
        if not ask:
            output.add(row, skipped=True, reason=reason)
            return None
        output.add(row)
        return PromptJob(row.key, prompt, sha, line.get("prompt_id") if line is not None else None, file)

    def _as_asked_now(self, outcome: RowOutcome) -> RowOutcome | None:
        """A checkpointed answer parsed as this run asks (its schema may differ from the earlier try's, or that
        try kept text); ``None`` when it does not fit, so the row is asked again."""
        if self.answer_shape is None:
            return replace(outcome, data=None)
        try:
            return replace(outcome, data=self.answer_shape.parse(outcome.response))
        except RaiaAnswerFormatError:
            return None

    def _rows(self) -> Iterator[tuple[Row, str, str, FilePart | None]]:
        for number, record in numbered(self.source, self.row_range):
            key = self._keys.key_of(number, record)
            if key is None:
                raise RaiaInputError(
                    f"argument 'input_path': row {number} lost its key field while the batch ran; "
                    "the input must not change until the batch is done."
                )
            row = Row(number, key, record)
            prompt = self.renderer.render(row)
            if self.files is None:
                yield row, prompt, self.renderer.digest(prompt), None
                continue
            try:
                found = self.files.find(row)
            except RaiaInputError as error:
                raise RaiaInputError(
                    f"argument 'file_field': row {number}'s file changed while the batch ran ({error}); the "
                    "input and its files must not change until the batch is done."
                ) from None
            yield row, prompt, self.renderer.digest(prompt, found.identity), found.part

    def _numbered_keys(self) -> Iterator[tuple[int, str]]:
        for number, record in numbered(self.source, self.row_range):
            key = self._keys.key_of(number, record)
            if key is not None:
                yield number, key
