"""``RaiaBatchPromptOperator``: ask the agent once per record of a table, from one task, at raia's pace."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, get_args

from raia_provider._core.batch_checkpoint import Checkpoint, CheckpointWriter, checkpoint_for, write_whole
from raia_provider._core.batch_input import (
    InputFormat,
    Row,
    as_path,
    check_row_range,
    keyed_rows,
    load_records,
    refuse_writing_over_input,
)
from raia_provider._core.batch_runner import BatchRunner, PromptJob, PromptMode, RowOutcome
from raia_provider._core.request_gate import RequestGate
from raia_provider._core.retry import SINGLE_ATTEMPT, RetryPolicy
from raia_provider.exceptions import RaiaInputError, RaiaPartialFailureError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators._waiting import seconds
from raia_provider.operators.base import RaiaBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context
    from jinja2 import Template

#: The fields each output line adds to its record.
RESULT_FIELDS: Final = ("response", "total_tokens", "status", "error")
#: The XCom key of the manifest pushed when the batch fails (on success it is the return value).
MANIFEST_XCOM_KEY: Final = "batch_manifest"
#: How many failed rows the exception message names.
MAX_NAMED: Final = 5
PROMPT_MODES: Final = get_args(PromptMode)


class RaiaBatchPromptOperator(RaiaBaseOperator):
    """Ask the agent one prompt per record and write every answer to a JSONL file, from a single task.

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
    ``total_tokens``, ``status``, ``error``; plus ``row_number`` when rows are numbered) is written whole at the
    end, in input order, and the checkpoint is then deleted. A row raia refuses (400) or reports ``failed``
    is written with its error and counted. The task fails (after writing the output and keeping the
    checkpoint) when more than ``max_failed_ratio`` of the rows failed or were not attempted; a refused key
    or a wrong base URL stops it at once.

    The return value (XCom) is a small manifest: ``output_path``, ``rows``, ``completed``, ``failed``,
    ``not_attempted``, ``reused`` (answers taken from the checkpoint), ``total_tokens``, ``requests``,
    ``throttled_pauses`` (how often raia's 429s paused the batch), ``elapsed_seconds``. When the task
    fails, the same manifest is pushed under ``batch_manifest``.

    To spread a large input over several workers, map the operator over row ranges of the same file
    (see :func:`row_ranges` and the how-to): each mapped task batches its own slice into its own output.

    :param prompt_template: the Jinja prompt, rendered once per record (not by Airflow's templating).
    :param output_path: the JSONL file to write, local or ``ObjectStoragePath`` (templated).
    :param records: the records, a list of dicts (templated; e.g. an upstream task's ``XComArg``).
    :param input_path: a ``.csv``, ``.jsonl`` or ``.ndjson`` file to read the records from instead (templated).
    :param input_format: ``csv`` or ``jsonl``, when ``input_path``'s suffix does not say.
    :param key_field: the field that identifies a record (its values must be unique); by default the
        0-based row number does.
    :param row_range: ``[start, stop]``: only the rows numbered ``start`` to ``stop - 1`` (for mapping).
    :param prompt_mode: ``sync`` (default: one ``POST /prompts`` per row) or ``async`` (submit and poll).
    :param max_concurrency: the most rows in flight at once.
    :param requests_per_second: the most requests started per second (``None``: no client-side limit);
        set it to your raia rate limit.
    :param max_failed_ratio: the share of rows (0 to 1) that may fail or go unattempted before the task fails.
    :param timeout: seconds to wait for one row's answer (a synchronous prompt's read timeout, or an async
        prompt's wait).
    :param poll_interval: seconds between reads of an async prompt.
    :param token_tracking_id: sent with every prompt, so raia's usage logs can tell this batch apart (templated).
    :param checkpoint_path: where to checkpoint instead of ``<output_path>.checkpoint`` (templated).
    :param checkpoint_interval: seconds between checkpoint writes; a hard crash loses at most this much work.
    :param row_retry_policy: attempts and backoff for one row's transient failures (the task's own
        ``retries`` then re-run the batch, which asks only what is still unanswered).
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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
        self._check_arguments()

    # -- checks (no I/O) --------------------------------------------------------------------------------

    def _check_arguments(self) -> None:
        """Refuse bad non-templated arguments when the DAG is parsed, naming each and what is allowed."""
        owner = type(self).__name__
        if not isinstance(self.prompt_template, str) or not self.prompt_template.strip():
            raise RaiaInputError(f"{owner}: prompt_template must be a non-blank Jinja string.")
        _compile(self.prompt_template)
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

    # -- run ----------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Read and check every row, ask those without a checkpointed answer, write the output.

        :param context: the task's context.
        :raises RaiaInputError: before any request, naming the bad argument, row or field.
        :raises RaiaPartialFailureError: more rows failed than ``max_failed_ratio`` allows (output written).
        """
        started = time.monotonic()
        if self.output_path is None or (isinstance(self.output_path, str) and not self.output_path.strip()):
            raise RaiaInputError("argument 'output_path' is required: the JSONL file to write the answers to.")
        output = as_path(self.output_path)
        checkpoint = Checkpoint(as_path(self.checkpoint_path) if self.checkpoint_path else checkpoint_for(output))
        if self.input_path is not None and self.input_path != "":
            refuse_writing_over_input(as_path(self.input_path), output=output, checkpoint=checkpoint.folder)
        records, origin = load_records(self.records, self.input_path, self.input_format)
        rows = keyed_rows(records, self.key_field, check_row_range(self.row_range))
        if not rows:
            raise RaiaInputError(f"argument 'row_range': {self.row_range!r} selects none of the {len(records)} rows.")
        tracking_id = self.token_tracking_id
        if tracking_id is not None and (not isinstance(tracking_id, str) or not tracking_id.strip()):
            raise RaiaInputError(
                f"argument 'token_tracking_id' must be None or a non-blank string, got {tracking_id!r}."
            )
        collisions = self._collisions(rows)
        if collisions:
            raise RaiaInputError(
                f"The records already have the field(s) {sorted(collisions)}, which the output adds to each record; "
                "rename them before the batch (e.g. in the query or an upstream task)."
            )
        prompts = self._render_prompts(rows, context)

        shas = {row.key: _digest(prompts[row.key], self.token_tracking_id) for row in rows}
        earlier = checkpoint.load(shas)
        outcomes: dict[str, RowOutcome] = {
            key: _outcome(line) for key, line in earlier.items() if line.get("status") == "completed"
        }
        reused = len(outcomes)
        jobs = [
            PromptJob(row.key, prompts[row.key], shas[row.key], earlier.get(row.key, {}).get("prompt_id"))
            for row in rows
            if row.key not in outcomes
        ]
        self.log.info(
            "raia batch over %s: %d row(s), %d answered by an earlier try, %d to ask (%s prompts, concurrency %d, %s)",
            origin,
            len(rows),
            reused,
            len(jobs),
            self.prompt_mode,
            self.max_concurrency,
            f"{self.requests_per_second:g} requests/s" if self.requests_per_second else "no client-side rate limit",
        )
        allowed_failures = int(self.max_failed_ratio * len(rows))
        writer = CheckpointWriter(checkpoint, self.checkpoint_interval)
        runner = self._runner(outcomes, writer, allowed_failures)
        if jobs:
            asyncio.run(self._run(runner, jobs, writer))
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
        manifest = self._write_output(rows, outcomes, output, reused, measured, runner.stopped_reason)
        unanswered = manifest["failed"] + manifest["not_attempted"]
        if unanswered > allowed_failures:
            context["ti"].xcom_push(key=MANIFEST_XCOM_KEY, value=manifest)
            raise RaiaPartialFailureError(
                self._failure_message(manifest, outcomes, rows, runner.stopped_reason),
                succeeded=[key for key, o in outcomes.items() if o.status == "completed"],
                failed=[{"key": key, "error": o.error} for key, o in outcomes.items() if o.status == "failed"],
            )
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

    def _render_prompts(self, rows: list[Row], context: Mapping[str, Any]) -> dict[str, str]:
        """Render the prompt of every row before any request; report the first few rows that cannot be."""
        template = _compile(self.prompt_template)
        base = dict(context)
        prompts: dict[str, str] = {}
        problems: list[str] = []
        for row in rows:
            try:
                prompt = template.render({**base, **row.record, "record": row.record, "row_number": row.number})
            except Exception as error:  # jinja2's UndefinedError, TypeError from a filter ...
                problems.append(f"row {row.number} (key {row.key!r}): {type(error).__name__}: {error}")
            else:
                if not prompt.strip():
                    problems.append(f"row {row.number} (key {row.key!r}): the prompt renders blank")
                prompts[row.key] = prompt
            if len(problems) >= MAX_NAMED:
                break
        if problems:
            raise RaiaInputError(
                "argument 'prompt_template' cannot be rendered for every row; nothing was sent: " + "; ".join(problems)
            )
        return prompts

    def _collisions(self, rows: list[Row]) -> set[str]:
        added = set(RESULT_FIELDS) | ({"row_number"} if self.key_field is None else set())
        return {name for row in rows for name in row.record if name in added}

    def _runner(self, outcomes: dict[str, RowOutcome], writer: CheckpointWriter, allowed_failures: int) -> BatchRunner:
        # Single attempts: the runner retries, so that a 429 pauses the batch once instead of every request.
        hook = RaiaHook(self.raia_conn_id, retry_policy=SINGLE_ATTEMPT, read_timeout=self.timeout)
        hook.settings  # noqa: B018 - read the connection here, blocking, before the event loop starts

        def on_outcome(outcome: RowOutcome) -> None:
            writer.add(outcome.to_json())
            if outcome.status != "submitted":
                outcomes[outcome.key] = outcome

        return BatchRunner(
            hook,
            mode=self.prompt_mode,
            max_concurrency=self.max_concurrency,
            gate=RequestGate(self.requests_per_second),
            on_outcome=on_outcome,
            token_tracking_id=self.token_tracking_id,
            retry_policy=self.row_retry_policy,
            poll_interval=self.poll_interval,
            wait_timeout=self.timeout,
            max_failures=allowed_failures,
        )

    async def _run(self, runner: BatchRunner, jobs: list[PromptJob], writer: CheckpointWriter) -> None:
        total = len(jobs)

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
                    await runner.run(jobs)
                finally:
                    flusher.cancel()
        except* Exception as errors:
            raise errors.exceptions[0] from None
        finally:
            await writer.flush()
            await runner.hook.aclose()

    def _write_output(
        self,
        rows: list[Row],
        outcomes: dict[str, RowOutcome],
        output: Any,
        reused: int,
        measured: dict[str, Any],
        stopped_reason: str | None,
    ) -> dict[str, Any]:
        lines = []
        counts = {"completed": 0, "failed": 0, "not_attempted": 0}
        tokens = 0
        for row in rows:
            outcome = outcomes.get(row.key)
            result: dict[str, Any]
            if outcome is None:
                result = {"response": None, "total_tokens": None, "status": "not_attempted", "error": stopped_reason}
                counts["not_attempted"] += 1
            else:
                result = {
                    "response": outcome.response,
                    "total_tokens": outcome.total_tokens,
                    "status": outcome.status,
                    "error": outcome.error,
                }
                counts[outcome.status] += 1
                tokens += outcome.total_tokens or 0
            numbered = {"row_number": row.number} if self.key_field is None else {}
            lines.append(json.dumps({**row.record, **numbered, **result}, ensure_ascii=False, default=str) + "\n")
        write_whole(output, "".join(lines))
        return {
            "output_path": str(output),
            "rows": len(rows),
            **counts,
            "reused": reused,
            "total_tokens": tokens,
            **measured,
        }

    def _failure_message(
        self, manifest: dict[str, Any], outcomes: dict[str, RowOutcome], rows: list[Row], stopped: str | None
    ) -> str:
        failed = [
            (row, outcomes[row.key]) for row in rows if row.key in outcomes and outcomes[row.key].status == "failed"
        ]
        named = "; ".join(f"row {row.number} (key {row.key!r}): {outcome.error}" for row, outcome in failed[:MAX_NAMED])
        more = f" and {len(failed) - MAX_NAMED} more" if len(failed) > MAX_NAMED else ""
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


def count_records(input_path: Any, input_format: InputFormat | None = None) -> int:
    """Count the records of a CSV or JSONL file (local or ``ObjectStoragePath``), checking them as the batch would.

    :param input_path: the file.
    :param input_format: ``csv`` or ``jsonl`` when the suffix does not say.
    """
    records, _ = load_records(None, input_path, input_format)
    return len(records)


def _compile(source: str) -> Template:
    from jinja2 import StrictUndefined, TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False).from_string(source)
    except TemplateSyntaxError as error:
        raise RaiaInputError(
            f"argument 'prompt_template' is not valid Jinja (line {error.lineno}): {error.message}"
        ) from None


def _digest(prompt: str, token_tracking_id: str | None) -> str:
    return hashlib.sha256(json.dumps([prompt, token_tracking_id]).encode()).hexdigest()


def _outcome(line: dict[str, Any]) -> RowOutcome:
    return RowOutcome(
        key=line["key"],
        prompt_sha=line["prompt_sha"],
        status=line["status"],
        response=line.get("response"),
        total_tokens=line.get("total_tokens"),
        error=line.get("error"),
        prompt_id=line.get("prompt_id"),
    )


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
