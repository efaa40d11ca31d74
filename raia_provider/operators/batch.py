"""``RaiaBatchPromptOperator``: ask the agent once per record of a table, from one task, at raia's pace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, get_args

from raia_provider._core.file_source import check_content_type
from raia_provider._core.request_gate import RequestGate
from raia_provider._core.retry import SINGLE_ATTEMPT, RetryPolicy
from raia_provider.engines.answers import AnswerShape, OutputFormat, agent_answer_shape
from raia_provider.engines.batch_checkpoint import Checkpoint, CheckpointWriter, checkpoint_for
from raia_provider.engines.batch_columns import OutputFileFormat, check_output_file_format, output_file_format_of
from raia_provider.engines.batch_files import RowFiles
from raia_provider.engines.batch_input import (
    InputFormat,
    as_path,
    check_row_range,
    record_source,
    refuse_writing_over_input,
)
from raia_provider.engines.batch_output import MAX_NAMED, RESULT_FIELDS, OrderedOutput
from raia_provider.engines.batch_pipeline import BatchPlan, Survey
from raia_provider.engines.batch_prompts import PromptRenderer, compile_template
from raia_provider.engines.batch_runner import BatchRunner, PromptMode, RowOutcome
from raia_provider.engines.batch_writers import OutputLayout
from raia_provider.engines.whole_files import remove_leftovers
from raia_provider.exceptions import RaiaInputError, RaiaPartialFailureError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators._waiting import seconds
from raia_provider.operators.base import RaiaBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["MANIFEST_XCOM_KEY", "RESULT_FIELDS", "RaiaBatchPromptOperator", "count_records", "row_ranges"]

#: The XCom key of the manifest pushed when the batch fails (on success it is the return value).
MANIFEST_XCOM_KEY: Final = "batch_manifest"
PROMPT_MODES: Final = get_args(PromptMode)
#: Rows the output may hold per row in flight, waiting for an older row's answer (see ``batch_output``).
ROWS_HELD_PER_WORKER: Final = 32
MIN_ROWS_HELD: Final = 256


class RaiaBatchPromptOperator(RaiaBaseOperator):
    """Ask the agent one prompt per record and write every answer to a JSONL, CSV or Parquet file, from one task.

    The records come from ``records`` (a list of dicts, e.g. an upstream task's XCom) or from ``input_path``
    (a CSV or JSONL file, local or ``ObjectStoragePath``). For each record, ``prompt_template`` is rendered
    with Jinja: the record's fields are variables (``{{ city }}``), the whole record is ``record``
    (``{{ record["first name"] }}``), its position is ``row_number``, and the task's context (``ds``,
    ``params`` ...) is there too. ``prompt_template`` is rendered per record, not by Airflow's templating.

    The rows are asked concurrently with async I/O inside the task: at most ``max_concurrency`` in flight,
    at most ``requests_per_second`` started per second, and when raia answers 429 the whole batch waits
    for its ``Retry-After`` once (not every request on its own). Other transient failures are retried per
    row with backoff. By default each row is one synchronous ``POST /prompts``; ``prompt_mode="async"``
    sends ``POST /prompts/async`` and polls, which costs at least twice the requests (see the how-to for
    the measurements).

    Answers are checkpointed as they arrive (every ``checkpoint_interval`` seconds) next to the output, in
    ``<output_path>.checkpoint/``. A retry of the task, or a rerun after a crash, asks only the rows without
    an answer for the same prompt, and never writes a row twice. The output (each record plus ``response``,
    ``total_tokens``, ``status``, ``error``; plus ``row_number`` when rows are numbered: a JSON line, a CSV
    row or a Parquet row each, see ``output_file_format``) is in input order, written as the answers arrive
    and published whole at the end; the checkpoint is then deleted. The input is streamed (read twice: once
    to check every row before any request, once to ask), so the task's memory is bounded by
    ``max_concurrency`` and ``checkpoint_interval``, not by the number of rows.

    A row raia refuses (400) or reports ``failed`` is written with its error and counted. The task fails
    (after writing the output and keeping the checkpoint) when more than ``max_failed_ratio`` of the rows
    failed or were not attempted; a refused key or a wrong base URL stops it at once.

    The return value (XCom) is a small manifest: ``output_path``, ``output_file_format``, ``rows``,
    ``completed``, ``failed``, ``not_attempted``, ``reused`` (answers taken from the checkpoint),
    ``total_tokens``, ``requests``, ``throttled_pauses`` (how often raia's 429s paused the batch),
    ``elapsed_seconds``. When the task fails, the same manifest is pushed under ``batch_manifest``.

    To spread a large input over several workers, map the operator over row ranges of the same file
    (see :func:`row_ranges` and the how-to): each mapped task batches its own slice into its own output.

    :param prompt_template: the Jinja prompt, rendered once per record (not by Airflow's templating).
    :param output_path: the file to write, local or ``ObjectStoragePath`` (templated).
    :param records: the records, a list of dicts (templated; e.g. an upstream task's ``XComArg``).
    :param input_path: a ``.csv``, ``.jsonl`` or ``.ndjson`` file to read the records from instead (templated).
    :param input_format: ``csv`` or ``jsonl``, when ``input_path``'s suffix does not say.
    :param key_field: the field that identifies a record (its values must be unique); by default the
        0-based row number does.
    :param row_range: ``[start, stop]``: only the rows numbered ``start`` to ``stop - 1`` (for mapping).
    :param prompt_mode: ``sync`` (default: one ``POST /prompts`` per row) or ``async`` (submit and poll).
    :param max_concurrency: the most rows in flight at once.
    :param requests_per_second: the most requests started per second; ``None`` (default) takes the
        connection's rate budget (its ``requests_per_second`` Extra field), and no client-side limit when
        the connection has none. Set it to your raia rate limit.
    :param max_failed_ratio: the share of rows (0 to 1) that may fail or go unattempted before the task fails.
    :param timeout: seconds to wait for one row's answer (a synchronous prompt's read timeout, or an async
        prompt's wait).
    :param poll_interval: seconds between reads of an async prompt.
    :param token_tracking_id: sent with every prompt, so raia's usage logs can tell this batch apart (templated).
    :param checkpoint_path: where to checkpoint instead of ``<output_path>.checkpoint`` (templated).
    :param checkpoint_interval: seconds between checkpoint writes; a hard crash loses at most this much work.
    :param row_retry_policy: attempts and backoff for one row's transient failures (the task's own
        ``retries`` then re-run the batch, which asks only what is still unanswered).
    :param output_format: ``"json"`` parses each answer (its value goes to an ``answer`` column), ``"text"``
        keeps it as text; ``None`` (default) follows the agent's profile: its output JSON schema when it has
        one enabled (read once per task), else text.
    :param output_schema: a JSON Schema (dict) or pydantic model class each answer must match (implies
        ``"json"``); its properties (or fields) become columns next to the record's own. A row whose answer
        is not JSON or breaks the schema fails (raw answer in ``response``, the path and reason in ``error``)
        and counts toward ``max_failed_ratio``.
    :param output_file_format: ``"jsonl"``, ``"csv"`` or ``"parquet"`` (needs the ``parquet`` extra); ``None``
        (default) takes it from ``output_path``'s suffix: ``.csv``, ``.parquet`` / ``.pq``, else JSONL.
    :param file_field: the record field holding each row's document (a local path or a URL such as
        ``s3://...``): uploaded through raia's signed URL just before the row's prompt and attached to it.
        Every row's file is found and checked before any request; a resumed run uploads nothing again for
        a row an earlier try answered.
    :param file_content_type: the MIME type of every row's file (default: guessed from each name).
    """

    template_fields: Sequence[str] = ("records", "input_path", "output_path", "token_tracking_id", "checkpoint_path")
    ui_color = "#e8d9f5"

    def __init__(
        self,
        *,
        prompt_template: str,
        output_path: Any,
        records: Any = None,
        input_path: Any = None,
        input_format: InputFormat | None = None,
        key_field: str | None = None,
        row_range: Sequence[int] | None = None,
        prompt_mode: PromptMode = "sync",
        max_concurrency: int = 8,
        requests_per_second: float | None = None,
        max_failed_ratio: float = 0.0,
        timeout: float = 120.0,
        poll_interval: float = 5.0,
        token_tracking_id: str | None = None,
        checkpoint_path: Any = None,
        checkpoint_interval: float = 2.0,
        row_retry_policy: RetryPolicy | None = None,
        output_format: OutputFormat | None = None,
        output_schema: Any = None,
        output_file_format: OutputFileFormat | None = None,
        file_field: str | None = None,
        file_content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.file_field = file_field
        self.file_content_type = file_content_type
        self._follows_agent = output_format is None and output_schema is None
        self.output_format = output_format
        self.output_schema = output_schema
        self._answer_shape = AnswerShape.from_arguments(
            output_format=output_format, output_schema=output_schema, owner=f"{type(self).__name__} {self.task_id!r}"
        )
        self.prompt_template = prompt_template
        self.output_path = output_path
        self.records = records
        self.input_path = input_path
        self.input_format = input_format
        self.key_field = key_field
        self.row_range = row_range
        self.prompt_mode = prompt_mode
        self.max_concurrency = max_concurrency
        self.requests_per_second = requests_per_second
        self.max_failed_ratio = max_failed_ratio
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.token_tracking_id = token_tracking_id
        self.checkpoint_path = checkpoint_path
        self.checkpoint_interval = checkpoint_interval
        self.row_retry_policy = row_retry_policy or RetryPolicy()
        self.output_file_format = output_file_format
        self._check_arguments()

    # -- checks (no I/O) --------------------------------------------------------------------------------

    def _check_arguments(self) -> None:
        """Refuse bad non-templated arguments when the DAG is parsed, naming each and what is allowed."""
        owner = type(self).__name__
        if not isinstance(self.prompt_template, str) or not self.prompt_template.strip():
            raise RaiaInputError(f"{owner}: prompt_template must be a non-blank Jinja string.")
        compile_template(self.prompt_template)
        if self.prompt_mode not in PROMPT_MODES:
            raise RaiaInputError(f"{owner}: prompt_mode must be one of {PROMPT_MODES}, got {self.prompt_mode!r}.")
        if self.input_format is not None and self.input_format not in ("csv", "jsonl"):
            raise RaiaInputError(f"{owner}: input_format must be 'csv', 'jsonl' or None, got {self.input_format!r}.")
        if self.key_field is not None and (not isinstance(self.key_field, str) or not self.key_field):
            raise RaiaInputError(f"{owner}: key_field must be a field name or None, got {self.key_field!r}.")
        if not _positive_int(self.max_concurrency):
            raise RaiaInputError(f"{owner}: max_concurrency must be a positive integer, got {self.max_concurrency!r}.")
        if self.requests_per_second is not None and not _positive(self.requests_per_second):
            raise RaiaInputError(
                f"{owner}: requests_per_second must be a positive number or None, got {self.requests_per_second!r}."
            )
        ratio = self.max_failed_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
            raise RaiaInputError(f"{owner}: max_failed_ratio must be a number from 0 to 1, got {ratio!r}.")
        for name in ("timeout", "poll_interval", "checkpoint_interval"):
            setattr(self, name, seconds(getattr(self, name), name, owner))
        check_row_range(self.row_range)
        check_output_file_format(self.output_file_format, owner)
        if self.file_field is not None and (not isinstance(self.file_field, str) or not self.file_field.strip()):
            raise RaiaInputError(f"{owner}: file_field must be a field name or None, got {self.file_field!r}.")
        if self.file_content_type is not None:
            try:
                check_content_type(self.file_content_type)
            except ValueError as error:
                raise RaiaInputError(f"{owner}: argument 'file_content_type': {error}.") from None

    # -- run ----------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Read and check every row, ask those without a checkpointed answer, write the output.

        :param context: the task's context.
        :raises RaiaInputError: before any request, naming the bad argument, row or field.
        :raises RaiaPartialFailureError: more rows failed than ``max_failed_ratio`` allows (output written).
        """
        started = time.monotonic()
        if self.output_path is None or (isinstance(self.output_path, str) and not self.output_path.strip()):
            raise RaiaInputError("argument 'output_path' is required: the file to write the answers to.")
        output = as_path(self.output_path)
        layout = OutputLayout(
            output_file_format_of(self.output_file_format, output),
            row_numbers=self.key_field is None,
            answer_shape=self._answer_shape,
        )
        checkpoint = Checkpoint(as_path(self.checkpoint_path) if self.checkpoint_path else checkpoint_for(output))
        if self.input_path is not None and self.input_path != "":
            refuse_writing_over_input(as_path(self.input_path), output=output, checkpoint=checkpoint.folder)
        source = record_source(self.records, self.input_path, self.input_format)
        tracking_id = self.token_tracking_id
        if tracking_id is not None and (not isinstance(tracking_id, str) or not tracking_id.strip()):
            raise RaiaInputError(
                f"argument 'token_tracking_id' must be None or a non-blank string, got {tracking_id!r}."
            )
        saved = checkpoint.saved()
        try:
            plan = BatchPlan(
                source,
                key_field=self.key_field,
                row_range=check_row_range(self.row_range),
                renderer=PromptRenderer(self.prompt_template, context, tracking_id),
                saved=saved,
                added_fields=frozenset(RESULT_FIELDS)
                | ({"row_number"} if self.key_field is None else frozenset())
                | frozenset(self._answer_shape.columns if self._answer_shape is not None else ()),
                row_range_argument=self.row_range,
                fields=layout.fields,
                files=RowFiles(self.file_field, self.file_content_type) if self.file_field else None,
                answer_shape=self._answer_shape,
            )
            survey = plan.survey()
            # Single attempts: the runner retries, so that a 429 pauses the batch once instead of every request.
            hook = RaiaHook(self.raia_conn_id, retry_policy=SINGLE_ATTEMPT, read_timeout=self.timeout)
            if self._follows_agent:  # after the first pass: bad input fails before any request
                # A hook with the usual retries: the batch's own makes single attempts for its runner to retry.
                shape = agent_answer_shape(RaiaHook(self.raia_conn_id))
                self._answer_shape = layout.answer_shape = plan.answer_shape = shape
                if self._answer_shape is not None:
                    plan.refuse_collisions(set(self._answer_shape.columns))
            rate = self.requests_per_second
            if rate is None:  # read here, blocking, before the event loop starts
                rate = hook.settings.requests_per_second
            self.log.info(
                "raia batch over %s: %d row(s), %d answered by an earlier try, %d to ask (%s prompts, "
                "concurrency %d, %s)",
                source.origin,
                survey.rows,
                survey.reused,
                survey.to_ask,
                self.prompt_mode,
                self.max_concurrency,
                _pace(rate, connection_budget=self.requests_per_second is None),
            )
            return self._ask(context, plan, survey, output, layout, checkpoint, started, hook, rate)
        finally:
            saved.close()

    def _ask(
        self,
        context: Context,
        plan: BatchPlan,
        survey: Survey,
        output: Any,
        layout: OutputLayout,
        checkpoint: Checkpoint,
        started: float,
        hook: RaiaHook,
        rate: float | None,
    ) -> dict[str, Any]:
        allowed_failures = int(self.max_failed_ratio * survey.rows)
        remove_leftovers(output)
        file = layout.open(output)
        sink = OrderedOutput(
            file,
            limit=max(MIN_ROWS_HELD, ROWS_HELD_PER_WORKER * self.max_concurrency),
            row_numbers=self.key_field is None,
            answer_shape=self._answer_shape,
        )
        try:
            writer = CheckpointWriter(checkpoint, self.checkpoint_interval)
            runner = self._runner(hook, rate, sink, writer, allowed_failures)
            try:
                asyncio.run(self._run(runner, plan, sink, writer, survey.to_ask))
            except BaseException:
                file.abandon()  # a batch-stopping error: no output, the answers stay in the checkpoint
                raise
            measured = {
                "requests": runner.requests,
                "throttled_pauses": runner.gate.pauses,
                "elapsed_seconds": round(time.monotonic() - started, 3),
            }
            if runner.gate.pauses:
                self.log.warning(
                    "raia answered 429 and paused the batch %d time(s), %.1f s in all; the pace settled at %.1f "
                    "requests/s (set requests_per_second near it to avoid the pauses)",
                    runner.gate.pauses,
                    runner.gate.paused_seconds,
                    runner.gate.rate or 0.0,
                )
            file.publish()
            manifest: dict[str, Any] = {
                "output_path": str(output),
                "output_file_format": layout.file_format,
                "rows": sink.rows,
                **sink.counts,
                "reused": plan.reused,
                "total_tokens": sink.total_tokens,
                **measured,
            }
            unanswered = manifest["failed"] + manifest["not_attempted"]
            if unanswered > allowed_failures:
                context["ti"].xcom_push(key=MANIFEST_XCOM_KEY, value=manifest)
                succeeded, failed = sink.keys()
                raise RaiaPartialFailureError(
                    self._failure_message(manifest, sink, runner.stopped_reason), succeeded=succeeded, failed=failed
                )
        finally:
            sink.close()
        checkpoint.discard()
        self.log.info(
            "raia batch done: %d completed, %d failed, %d tokens, %d requests in %.1f s; written to %s",
            manifest["completed"],
            manifest["failed"],
            manifest["total_tokens"],
            manifest["requests"],
            manifest["elapsed_seconds"],
            manifest["output_path"],
        )
        return manifest

    def _runner(
        self,
        hook: RaiaHook,
        rate: float | None,
        sink: OrderedOutput,
        writer: CheckpointWriter,
        allowed_failures: int,
    ) -> BatchRunner:
        hook.settings  # noqa: B018 - read the connection here, blocking, before the event loop starts

        def on_outcome(outcome: RowOutcome) -> None:
            writer.add(outcome.to_json())
            if outcome.status != "submitted":
                sink.settle(outcome)

        return BatchRunner(
            hook,
            mode=self.prompt_mode,
            max_concurrency=self.max_concurrency,
            gate=RequestGate(rate),
            on_outcome=on_outcome,
            token_tracking_id=self.token_tracking_id,
            retry_policy=self.row_retry_policy,
            poll_interval=self.poll_interval,
            wait_timeout=self.timeout,
            max_failures=allowed_failures,
            on_stop=sink.wake,
            answer_shape=self._answer_shape,
        )

    async def _run(
        self, runner: BatchRunner, plan: BatchPlan, sink: OrderedOutput, writer: CheckpointWriter, total: int
    ) -> None:
        def progress() -> None:
            self.log.info(
                "raia batch: %d of %d row(s) done (%d failed), %d request(s) sent",
                runner.finished,
                total,
                runner.failed,
                runner.requests,
            )

        try:
            async with asyncio.TaskGroup() as group:
                flusher = group.create_task(writer.every_interval(progress))
                try:
                    await plan.ask(runner, sink)
                finally:
                    flusher.cancel()
        except* Exception as errors:
            raise errors.exceptions[0] from None
        finally:
            await writer.flush()
            await runner.hook.aclose()

    def _failure_message(self, manifest: dict[str, Any], sink: OrderedOutput, stopped: str | None) -> str:
        named = "; ".join(f"row {row.number} (key {row.key!r}): {error}" for row, error in sink.first_failed)
        more = f" and {manifest['failed'] - MAX_NAMED} more" if manifest["failed"] > MAX_NAMED else ""
        return (
            f"raia batch: {manifest['failed']} of {manifest['rows']} row(s) failed and {manifest['not_attempted']} "
            f"were not attempted, more than max_failed_ratio={self.max_failed_ratio:g} allows"
            f"{f' ({stopped})' if stopped else ''}. The output {manifest['output_path']} holds every row with its "
            f"status and error; the {manifest['completed']} answer(s) are checkpointed, so a retry asks only the "
            f"rest. Failed: {named or 'none'}{more}."
        )


def row_ranges(total_rows: int, chunk_size: int) -> list[list[int]]:
    """Split ``total_rows`` rows into ``[start, stop]`` ranges of ``chunk_size``, to map the batch over workers.

    ``RaiaBatchPromptOperator.partial(input_path=..., output_path=".../part-{{ ti.map_index }}.jsonl")
    .expand(row_range=row_ranges(n, 500))`` gives each mapped task its own slice and output file; Airflow's
    executor spreads them over the workers.

    :param total_rows: how many rows the input has.
    :param chunk_size: the most rows per chunk.
    :raises RaiaInputError: if either is not a positive integer.
    """
    if not _positive_int(total_rows) or not _positive_int(chunk_size):
        raise RaiaInputError(
            f"row_ranges needs positive integers, got total_rows={total_rows!r}, chunk_size={chunk_size!r}."
        )
    return [[start, min(start + chunk_size, total_rows)] for start in range(0, total_rows, chunk_size)]


def _pace(rate: float | None, *, connection_budget: bool) -> str:
    if rate is None:
        return "no client-side rate limit"
    return f"{rate:g} requests/s" + (" (the connection's rate budget)" if connection_budget else "")


def count_records(input_path: Any, input_format: InputFormat | None = None) -> int:
    """Count the records of a CSV or JSONL file (local or ``ObjectStoragePath``), checking them as the batch would.

    The file is streamed, not loaded.

    :param input_path: the file.
    :param input_format: ``csv`` or ``jsonl`` when the suffix does not say.
    """
    source = record_source(None, input_path, input_format)
    count = sum(1 for _ in source)
    if not count:
        raise source.empty()
    return count


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
