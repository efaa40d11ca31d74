"""Ask raia many prompts from one task: async I/O, bounded concurrency, one pace and one back-off for all.

:class:`BatchRunner` takes :class:`PromptJob` s and reports one :class:`RowOutcome` per job through a callback,
as each arrives. ``max_concurrency`` workers share one :class:`~raia_provider._core.request_gate.RequestGate`,
so the batch never starts more than ``requests_per_second`` requests a second and pauses as a whole when raia
answers 429. Other transient failures (connection, timeout, 5xx) are retried per row with the provider's
:class:`~raia_provider._core.retry.RetryPolicy` backoff. A row whose prompt raia rejects (400) or reports
``failed`` fails alone; a refused key or a wrong base URL (403/404 on the prompt endpoint) stops the batch,
since every other row would fail the same way.

A row with a file (``file_field``) first uploads it: ``POST /prompts/upload-url`` through the gate, then
the bytes to the signed URL's storage host (not raia: the key never goes there), as one step retried
together, so a retry gets a fresh signed URL.

Two ways to ask: ``sync`` (``POST /prompts``: one request per row) and ``async`` (``POST /prompts/async``,
then the shared poll loop of :mod:`raia_provider.engines.polling`, whose reads also pass the gate).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sized
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from raia_provider._core import clock
from raia_provider._core.request_gate import RequestGate
from raia_provider._core.retry import RetryPolicy
from raia_provider.engines.answers import AnswerShape
from raia_provider.engines.polling import PollTarget, arun_poll, poll_steps
from raia_provider.exceptions import (
    RaiaAnswerFormatError,
    RaiaAuthError,
    RaiaConfigurationError,
    RaiaError,
    RaiaNotFoundError,
    RaiaRateLimitError,
    is_transient,
)
from raia_provider.hooks.raia import RaiaHook

if TYPE_CHECKING:
    from raia_provider._core.multipart import FilePart
    from raia_provider.models.prompts import PromptFile

log = logging.getLogger(__name__)

PromptMode = Literal["sync", "async"]
OutcomeStatus = Literal["completed", "failed", "submitted"]
#: 429s a single row may meet before it is given up on (they pause the batch; they do not count as failures).
MAX_THROTTLED_ATTEMPTS: Final = 30
#: Errors that would fail every row alike: they stop the batch instead of failing it row by row.
_BATCH_FATAL: Final = (RaiaAuthError, RaiaNotFoundError, RaiaConfigurationError)


@dataclass(frozen=True)
class PromptJob:
    """One row to ask.

    :param key: the row's key.
    :param prompt: the rendered prompt.
    :param prompt_sha: its digest (what a checkpointed answer must match).
    :param prompt_id: an async prompt already submitted by an earlier try, to wait for instead of asking again.
    :param file: the row's document, uploaded just before its prompt and attached to it (``file_field``).
    """

    key: str
    prompt: str
    prompt_sha: str
    prompt_id: str | None = None
    file: FilePart | None = None


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row; also the line written to the checkpoint.

    :param key: the row's key.
    :param prompt_sha: the digest of the prompt it asked.
    :param status: ``completed``, ``failed``, or ``submitted`` (an async prompt sent; its answer comes later).
    :param response: the agent's answer when completed.
    :param total_tokens: the tokens raia counted, when it says.
    :param error: why the row failed.
    :param prompt_id: the async prompt's id (async mode).
    :param data: the parsed answer, when the batch asks for structured answers.
    """

    key: str
    prompt_sha: str
    status: OutcomeStatus
    response: str | None = None
    total_tokens: int | None = None
    error: str | None = None
    prompt_id: str | None = None
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        """The outcome as a plain JSON object."""
        # Not dataclasses.asdict: its deep copy cost a tenth of the client's CPU per row, for flat fields.
        return dict(vars(self))

    @classmethod
    def from_json(cls, line: dict[str, Any]) -> RowOutcome:
        """The outcome a checkpoint line records (:meth:`to_json`'s inverse; unknown keys are ignored).

        :param line: the checkpoint line.
        """
        return cls(
            key=line["key"],
            prompt_sha=line["prompt_sha"],
            status=line["status"],
            response=line.get("response"),
            total_tokens=line.get("total_tokens"),
            error=line.get("error"),
            prompt_id=line.get("prompt_id"),
            data=line.get("data"),
        )


class BatchRunner:
    """Run prompt jobs concurrently through one gate; see the module docs.

    :param hook: the hook to send with; it should make single attempts (the runner retries).
    :param mode: ``sync`` or ``async`` prompts.
    :param max_concurrency: the most rows in flight at once.
    :param gate: the shared pace and back-off.
    :param on_outcome: called with each outcome as it arrives (``submitted`` ones too, in async mode).
    :param token_tracking_id: sent with every prompt, if set.
    :param retry_policy: attempts and backoff for transient failures of one row.
    :param poll_interval: seconds between reads of an async prompt.
    :param wait_timeout: the longest wait for one async prompt's answer, in seconds.
    :param max_failures: stop starting rows once more than this many have failed (``None``: never stop).
    :param on_stop: called when the batch stops early (a source of jobs waiting for room can then give up).
    :param sleep: the coroutine sleep between retries and polls (default: :func:`raia_provider._core.clock.asleep`).
    """

    def __init__(
        self,
        hook: RaiaHook,
        *,
        mode: PromptMode,
        max_concurrency: int,
        gate: RequestGate,
        on_outcome: Callable[[RowOutcome], None],
        token_tracking_id: str | None = None,
        retry_policy: RetryPolicy | None = None,
        poll_interval: float = 5.0,
        wait_timeout: float = 3600.0,
        max_failures: int | None = None,
        on_stop: Callable[[], None] | None = None,
        sleep: Callable[[float], Any] | None = None,
        answer_shape: AnswerShape | None = None,
    ) -> None:
        self.hook = hook
        self.answer_shape = answer_shape
        self.mode = mode
        self.max_concurrency = max_concurrency
        self.gate = gate
        self.on_outcome = on_outcome
        self.token_tracking_id = token_tracking_id
        self.retry_policy = retry_policy or RetryPolicy()
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.max_failures = max_failures
        self._on_stop = on_stop
        self._sleep = sleep
        #: Requests sent (retries and polls included), rows finished, rows failed.
        self.requests = 0
        self.finished = 0
        self.failed = 0
        #: Whether the batch stopped early, and why.
        self.stopped_reason: str | None = None

    async def run(self, jobs: Iterable[PromptJob] | AsyncIterable[PromptJob]) -> None:
        """Ask every job (until stopped); each outcome goes to ``on_outcome`` as it arrives.

        Jobs are taken one at a time, as a worker becomes free, so a lazy source (an async one may make
        workers wait, e.g. until the output has room) holds no more than ``max_concurrency`` of them.

        :param jobs: the rows to ask, in the order to start them.
        :raises RaiaError: a batch-stopping error (refused key, wrong base URL), after in-flight rows ended.
        """
        take = _taker(jobs)
        fatal: list[RaiaError] = []

        async def worker() -> None:
            while not (fatal or self.stopped_reason):
                job = await take()  # one shared source: each job is taken by exactly one worker
                if job is None or fatal or self.stopped_reason:
                    return
                try:
                    outcome = await self._ask(job)
                except _BATCH_FATAL as error:
                    fatal.append(error)
                    self._stop(f"stopped: {error}")
                    return
                self._record(outcome)

        workers = min(self.max_concurrency, len(jobs)) if isinstance(jobs, Sized) else self.max_concurrency
        await asyncio.gather(*(worker() for _ in range(workers)))
        if fatal:
            raise fatal[0]

    def _record(self, outcome: RowOutcome) -> None:
        self.on_outcome(outcome)
        if outcome.status == "submitted":
            return
        self.finished += 1
        if outcome.status == "failed":
            self.failed += 1
            if self.max_failures is not None and self.failed > self.max_failures and not self.stopped_reason:
                self._stop(
                    f"stopped after {self.failed} failed rows, more than the {self.max_failures} "
                    "that max_failed_ratio allows"
                )

    def _stop(self, reason: str) -> None:
        self.stopped_reason = reason
        if self._on_stop is not None:
            self._on_stop()

    async def _ask(self, job: PromptJob) -> RowOutcome:
        """One row, start to end; row-level failures become a ``failed`` outcome."""
        try:
            if self.mode == "sync":
                return self._as_data(await self._ask_sync(job))
            return self._as_data(await self._ask_async(job))
        except _BATCH_FATAL:
            raise
        except RaiaError as error:
            return RowOutcome(job.key, job.prompt_sha, "failed", error=self.hook.redact(str(error)))

    def _as_data(self, outcome: RowOutcome) -> RowOutcome:
        """A completed row with its answer parsed; an answer that is not the data asked for fails the row and
        keeps the raw answer in ``response``."""
        if self.answer_shape is None or outcome.status != "completed":
            return outcome
        try:
            return replace(outcome, data=self.answer_shape.parse(outcome.response))
        except RaiaAnswerFormatError as error:
            return replace(outcome, status="failed", error=self.hook.redact(str(error)))

    async def _attach(self, job: PromptJob) -> list[PromptFile] | None:
        """Upload the row's file (one gated raia request, then the storage host) and return the prompt's
        ``files``; ``None`` for a row without one."""
        part = job.file
        if part is None:
            return None
        return [await self._send(lambda: self.hook.aupload_prompt_file(part))]

    async def _ask_sync(self, job: PromptJob) -> RowOutcome:
        files = await self._attach(job)
        answer = await self._send(
            lambda: self.hook.aprocess_prompt(prompt=job.prompt, token_tracking_id=self.token_tracking_id, files=files)
        )
        if answer.status == "completed":
            return RowOutcome(job.key, job.prompt_sha, "completed", answer.response, answer.total_tokens)
        error = answer.error or (
            "raia answered the synchronous prompt with status 'pending' and no id to poll"
            if answer.status == "pending"
            else "raia gave no error text"
        )
        return RowOutcome(job.key, job.prompt_sha, "failed", total_tokens=answer.total_tokens, error=error)

    async def _ask_async(self, job: PromptJob) -> RowOutcome:
        prompt_id = job.prompt_id
        if prompt_id is None:
            files = await self._attach(job)
            submitted = await self._send(
                lambda: self.hook.acreate_prompt(
                    prompt=job.prompt, token_tracking_id=self.token_tracking_id, files=files
                )
            )
            prompt_id = submitted.prompt_id
            # Recorded before waiting, so that a retry after a crash waits for this prompt instead of asking again.
            self.on_outcome(RowOutcome(job.key, job.prompt_sha, "submitted", prompt_id=prompt_id))
        target = PollTarget.prompt(prompt_id)

        async def read() -> Any:
            return await self._through_gate(lambda: target.aread(self.hook))

        steps = poll_steps(
            target,
            poll_interval=self.poll_interval,
            end_time=clock.now() + self.wait_timeout,
            policy=self.retry_policy,
        )
        event = await arun_poll(steps, read, self._sleep or clock.asleep)
        if event["status"] == "success":
            result = event["result"]
            return RowOutcome(
                job.key,
                job.prompt_sha,
                "completed",
                result.get("response"),
                result.get("total_tokens"),
                None,
                prompt_id,
            )
        # Only a prompt still pending is worth waiting for again: one raia failed, or can no longer read (a
        # vanished id), is asked anew by a retry, as the checkpoint promises for a row whose last line is failed.
        kept_id = prompt_id if event["status"] == "timeout" else None
        return RowOutcome(job.key, job.prompt_sha, "failed", error=str(event.get("message")), prompt_id=kept_id)

    async def _through_gate(self, call: Callable[[], Any], throttled_before: int = 0) -> Any:
        """Send one request when the gate allows; a 429 pauses the whole batch (and is raised to the caller).

        :param call: makes the request.
        :param throttled_before: how many 429s this row met already (the backoff when raia gives no Retry-After).
        """
        await self.gate.acquire()
        self.requests += 1
        try:
            answer = await call()
        except RaiaRateLimitError as error:
            self.gate.throttled(self.retry_policy.wait_seconds(throttled_before + 1, error))
            raise
        self.gate.succeeded()
        return answer

    async def _send(self, call: Callable[[], Any]) -> Any:
        """Send one request through the gate; retry transient failures; a 429 pauses the whole batch."""
        failures = throttled = 0
        while True:
            try:
                return await self._through_gate(call, throttled)
            except RaiaRateLimitError:
                throttled += 1
                if throttled >= MAX_THROTTLED_ATTEMPTS:
                    raise
            except RaiaError as error:
                if not is_transient(error):
                    raise
                failures += 1
                if failures >= self.retry_policy.max_attempts:
                    raise
                delay = self.retry_policy.wait_seconds(failures, error)
                log.warning(
                    "raia prompt failed (attempt %d of %d): %s; retrying in %.1f s",
                    failures,
                    self.retry_policy.max_attempts,
                    error,
                    delay,
                )
                await (self._sleep or clock.asleep)(delay)


def _taker(jobs: Iterable[PromptJob] | AsyncIterable[PromptJob]) -> Callable[[], Awaitable[PromptJob | None]]:
    """A coroutine function that takes the next job, or ``None`` when there are no more."""
    if isinstance(jobs, AsyncIterable):
        source = aiter(jobs)
        # One taker at a time: an async generator cannot be awaited by two workers at once.
        lock = asyncio.Lock()

        async def take_async() -> PromptJob | None:
            async with lock:
                return await anext(source, None)

        return take_async
    pending = iter(jobs)

    async def take() -> PromptJob | None:
        return next(pending, None)

    return take
