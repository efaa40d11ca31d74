"""The one poll loop of the provider: wait for an answer raia produces in the background.

Three things raia finishes in the background: an async prompt (``GET /prompts/{id}/response-on``), the reply
to an async conversation message (``GET /conversations/{id}/messages/{questionMessageId}/response-on``) and
the vector-store processing of uploaded agent files (``GET /agent-files/by-api-key``). A
:class:`PollTarget` names one of them and reads it once; :func:`assess` turns what raia answered into
``pending`` / ``completed`` / ``failed`` (the one status evaluation); :func:`poll_steps` is the loop,
written once as a generator that asks its driver to *read* or to *sleep* and finally returns the event.
:func:`arun_poll` (the triggerer's event loop) and :func:`run_poll` (a blocking caller) only carry
out those requests, so no wait can drift from another. A sensor in ``poke``/``reschedule`` mode reads once
per poke through :meth:`PollTarget.read`, i.e. the same status evaluation.

The event is a plain JSON dict, the same whether it ends a blocking wait or comes out of a trigger::

    {"status": "success" | "failed" | "timeout" | "error", "kind": "prompt" | "message" | "files",
     "message": "<what happened, never the key>", "result": {...} (success only), ...the target's ids}
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from raia_provider._core import clock
from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import (
    RaiaError,
    RaiaMessageFailedError,
    RaiaPollError,
    RaiaPromptFailedError,
    RaiaResponseError,
    RaiaTriggerEventError,
    RaiaWaitTimeoutError,
    is_transient,
)

if TYPE_CHECKING:
    from raia_provider.hooks.raia import RaiaHook
    from raia_provider.models.conversations import MessageReply
    from raia_provider.models.files import AgentFile
    from raia_provider.models.prompts import PromptResult

log = logging.getLogger(__name__)

TargetKind = Literal["prompt", "message", "files"]
#: Failed reads of a wait are retried by the poll loop with this policy's attempts and backoff ...
POLL_RETRY_POLICY: Final = RetryPolicy()
#: ... so each read itself is a single request (:data:`~raia_provider._core.retry.SINGLE_ATTEMPT`).
EventStatus = Literal["success", "failed", "timeout", "error"]
EVENT_STATUSES: Final[frozenset[str]] = frozenset({"success", "failed", "timeout", "error"})


@dataclass(frozen=True)
class Reading:
    """One look at a target: where it stands, and its answer once there is one.

    :param status: ``pending``, ``completed`` or ``failed``.
    :param result: the plain-JSON answer when completed.
    :param error: raia's error text when failed.
    """

    status: Literal["pending", "completed", "failed"]
    result: dict[str, Any] | None = None
    error: str | None = None


def assess(kind: TargetKind, status: str | None, error: str | None, result: dict[str, Any] | None) -> Reading:
    """Decide what raia's answer to a poll means. ``None`` (raia's JSON ``null``) is not ready yet.

    An unknown status is never taken for success: it raises, so a change on raia's side fails loudly.

    :param kind: what was polled, for the error message.
    :param status: raia's ``status`` (the message poll's ``running``/``error`` arrive already normalized).
    :param error: raia's ``error`` text.
    :param result: the answer, read only when ``completed``.
    """
    match status:
        case None | "pending":
            return Reading("pending")
        case "completed":
            return Reading("completed", result=result)
        case "failed":
            return Reading("failed", error=error or "raia gave no error text")
        case _:
            # Not transient: a contract change does not heal by asking again, so the wait ends at once.
            raise RaiaResponseError(
                f"raia answered the {kind} poll with status {status!r}; expected pending, completed or failed"
            )


def prompt_output(prompt_id: str | None, answer: PromptResult) -> dict[str, Any]:
    """The plain-JSON result of a prompt, the same for the blocking and the deferred path.

    :param prompt_id: the async prompt's id (``None`` for a synchronous prompt).
    :param answer: raia's answer.
    """
    output: dict[str, Any] = {
        "response": answer.response,
        "total_tokens": answer.total_tokens,
        "status": answer.status,
    }
    if prompt_id is not None:
        output["prompt_id"] = prompt_id
    return output


@dataclass(frozen=True)
class PollTarget:
    """What is being waited for: an async prompt, the agent's reply to an async message, or agent files.

    :param kind: ``prompt``, ``message`` or ``files``.
    :param ids: the ids that name it: ``prompt_id``; ``conversation_id`` and ``question_message_id``; or
        ``file_ids`` (comma-separated).
    """

    kind: TargetKind
    ids: dict[str, str]

    @classmethod
    def prompt(cls, prompt_id: str) -> PollTarget:
        """An async prompt.

        :param prompt_id: the ``promptId`` raia returned.
        """
        return cls("prompt", {"prompt_id": prompt_id})

    @classmethod
    def message(cls, conversation_id: str, question_message_id: str) -> PollTarget:
        """The agent's reply to a message sent with ``messages/async``.

        :param conversation_id: the conversation's id.
        :param question_message_id: the id of the message that was sent.
        """
        return cls("message", {"conversation_id": conversation_id, "question_message_id": question_message_id})

    @classmethod
    def files(cls, file_ids: list[str]) -> PollTarget:
        """The vector-store processing of uploaded agent files: done once none is ``processing``.

        The result maps each id to its final ``vectorStoreUploadStatus`` (``done``, ``failed``, ``None`` when not
        in the vector store) or ``"missing"`` when raia no longer lists the file.

        :param file_ids: the files' ids; at least one.
        """
        return cls("files", {"file_ids": ",".join(file_ids)})

    def describe(self) -> str:
        """A human name for log lines and messages, e.g. ``prompt 42``."""
        if self.kind == "prompt":
            return f"prompt {self.ids['prompt_id']}"
        if self.kind == "files":
            return f"vector-store processing of {len(self.ids['file_ids'].split(','))} file(s)"
        return f"reply to message {self.ids['question_message_id']} in conversation {self.ids['conversation_id']}"

    def read(self, hook: RaiaHook) -> Reading:
        """Read the target once, blocking.

        :param hook: the hook to read with.
        """
        if self.kind == "prompt":
            return self._assess_prompt(hook.get_prompt_response(prompt_id=self.ids["prompt_id"]), hook.redact)
        if self.kind == "files":
            return self._assess_files(hook.list_agent_files())
        return self._assess_message(hook.get_message_reply(**self.ids), hook.redact)

    async def aread(self, hook: RaiaHook) -> Reading:
        """Read the target once, without blocking the event loop.

        :param hook: the hook to read with.
        """
        if self.kind == "prompt":
            answer = await hook.aget_prompt_response(prompt_id=self.ids["prompt_id"])
            return self._assess_prompt(answer, hook.redact)
        if self.kind == "files":
            return self._assess_files(await hook.alist_agent_files())
        return self._assess_message(await hook.aget_message_reply(**self.ids), hook.redact)

    # raia's error text may echo what it was sent, the key included: it is redacted before it goes anywhere.
    def _assess_prompt(self, answer: PromptResult | None, redact: Callable[[str], str]) -> Reading:
        if answer is None:
            return assess(self.kind, None, None, None)
        error = redact(answer.error) if answer.error else answer.error
        return assess(self.kind, answer.status, error, prompt_output(self.ids["prompt_id"], answer))

    def _assess_message(self, answer: MessageReply, redact: Callable[[str], str]) -> Reading:
        reply = answer.message
        result = {
            **self.ids,
            "status": answer.status,
            "response": reply.message if reply else None,
            "message_id": reply.id if reply else None,
        }
        return assess(self.kind, answer.status, redact(answer.error) if answer.error else answer.error, result)

    def _assess_files(self, files: list[AgentFile]) -> Reading:
        listed = {agent_file.id: agent_file.vector_store_upload_status for agent_file in files}
        statuses = {file_id: listed.get(file_id, "missing") for file_id in self.ids["file_ids"].split(",")}
        pending = any(status == "processing" for status in statuses.values())
        return assess(self.kind, "pending" if pending else "completed", None, {"statuses": statuses})


class _Read:
    """The loop's request to its driver: read the target now and send the :class:`Reading` back."""

    def __repr__(self) -> str:
        return "READ"


READ: Final = _Read()
#: What the loop yields: :data:`READ`, or a number of seconds to sleep.
Step = _Read | float


def poll_steps(
    target: PollTarget,
    *,
    poll_interval: float,
    end_time: float,
    policy: RetryPolicy | None = None,
    now: Callable[[], float] | None = None,
) -> Generator[Step, Reading | None, dict[str, Any]]:
    """The poll loop: read, and while the answer is pending sleep ``poll_interval`` and read again.

    Ends with exactly one event (see the module docs). A read that fails with a transient error
    (connection, timeout, 5xx, 429) is tried again after the retry policy's backoff (honouring
    ``Retry-After``), up to ``policy.max_attempts`` failures in a row; any other error ends the wait at once.
    Past ``end_time`` (wall clock, so the deadline survives a triggerer restart) the event is ``timeout``.

    :param target: what to wait for.
    :param poll_interval: seconds between reads while pending.
    :param end_time: the wall-clock deadline, ``time.time()`` seconds.
    :param policy: the retry policy whose attempts and backoff apply to failed reads.
    :param now: the wall clock (default: :func:`raia_provider._core.clock.now`, looked up at each reading).
    """
    policy = policy or POLL_RETRY_POLICY
    failures = 0
    while True:
        try:
            reading = yield READ
        except RaiaError as exc:
            if not is_transient(exc):
                return _event(target, "error", f"Gave up waiting for the {target.describe()}: {exc}")
            failures += 1
            if failures >= policy.max_attempts:
                return _event(
                    target, "error", f"Gave up waiting for the {target.describe()} after {failures} failed reads: {exc}"
                )
            delay = max(poll_interval, policy.wait_seconds(failures, exc))
            log.warning(
                "Reading the %s failed (%d of %d in a row): %s; reading again in %.1f s",
                target.describe(),
                failures,
                policy.max_attempts,
                exc,
                delay,
            )
        except Exception as exc:  # a bug or an unforeseen library error: report it as one event, not a crash
            return _event(target, "error", f"Gave up waiting for the {target.describe()}: {type(exc).__name__}: {exc}")
        else:
            failures = 0
            assert reading is not None
            if reading.status == "completed":
                return _event(target, "success", f"The {target.describe()} is completed.", result=reading.result)
            if reading.status == "failed":
                failure = f"raia reports the {target.describe()} failed: {reading.error}"
                return {**_event(target, "failed", failure), "error": reading.error}
            delay = poll_interval
        remaining = end_time - (now or clock.now)()
        if remaining <= 0:
            return _event(target, "timeout", f"The {target.describe()} was still pending when the wait timed out.")
        yield min(delay, remaining)


def _event(
    target: PollTarget, status: EventStatus, message: str, result: dict[str, Any] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {"status": status, "kind": target.kind, **target.ids, "message": message}
    if result is not None:
        event["result"] = result
    return event


def run_poll(
    steps: Generator[Step, Reading | None, dict[str, Any]],
    read: Callable[[], Reading],
    sleep: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Drive :func:`poll_steps` with blocking reads and sleeps; return its event.

    :param steps: the loop.
    :param read: reads the target once.
    :param sleep: the blocking sleep (default: :func:`raia_provider._core.clock.sleep`).
    """
    sleep = sleep or clock.sleep
    step = next(steps)
    try:
        while True:
            if isinstance(step, _Read):
                try:
                    reading = read()
                except Exception as exc:
                    step = steps.throw(exc)
                else:
                    step = steps.send(reading)
            else:
                sleep(step)
                step = steps.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def arun_poll(
    steps: Generator[Step, Reading | None, dict[str, Any]],
    read: Callable[[], Awaitable[Reading]],
    sleep: Callable[[float], Awaitable[None]],
) -> dict[str, Any]:
    """Drive :func:`poll_steps` with awaited reads and sleeps; return its event.

    :param steps: the loop.
    :param read: reads the target once, as a coroutine.
    :param sleep: the coroutine sleep.
    """
    step = next(steps)
    try:
        while True:
            if isinstance(step, _Read):
                try:
                    reading = await read()
                except Exception as exc:
                    step = steps.throw(exc)
                else:
                    step = steps.send(reading)
            else:
                await sleep(step)
                step = steps.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def result_from_event(event: Any, expected: TargetKind | PollTarget) -> dict[str, Any]:
    """Check the event a wait ended with and return its result, or raise the typed error it stands for.

    Used by ``execute_complete`` after a deferral and by the blocking waits alike. A missing event, an
    unknown status, or one about another target raises :class:`~raia_provider.exceptions.RaiaTriggerEventError`.

    :param event: the event (from the trigger, or from :func:`run_poll`).
    :param expected: what the task waited for: a kind of wait, or the very target; the event must match.
    """
    if not isinstance(event, dict):
        raise RaiaTriggerEventError(f"The task resumed without a usable event (got {type(event).__name__}).")
    status = event.get("status")
    if status not in EVENT_STATUSES:
        raise RaiaTriggerEventError(
            f"The task resumed with an event of unknown status {status!r}; expected one of {sorted(EVENT_STATUSES)}."
        )
    kind = event.get("kind")
    expected_kind = expected if isinstance(expected, str) else expected.kind
    if kind != expected_kind:
        raise RaiaTriggerEventError(f"The task waited for a {expected_kind} but resumed with an event about {kind!r}.")
    ids = {name: event.get(name) for name in _ID_NAMES[expected_kind]}
    if not all(isinstance(value, str) and value for value in ids.values()):
        raise RaiaTriggerEventError(f"The task resumed with a {kind} event that lacks its ids: {sorted(ids)}.")
    if isinstance(expected, PollTarget) and expected.ids != ids:
        raise RaiaTriggerEventError(f"The task resumed with an event about another wait ({kind} {ids}).")
    message = str(event.get("message") or status)
    match status:
        case "success":
            result = event.get("result")
            if not isinstance(result, dict):
                raise RaiaTriggerEventError(f"The task resumed with a success event without a result: {message}")
            return result
        case "failed" if kind == "prompt":
            raise RaiaPromptFailedError(message, prompt_id=ids["prompt_id"], raia_error=event.get("error"))
        case "failed":
            raise RaiaMessageFailedError(
                message,
                conversation_id=ids["conversation_id"],
                question_message_id=ids["question_message_id"],
                raia_error=event.get("error"),
            )
        case "timeout":
            raise RaiaWaitTimeoutError(message)
        case _:
            raise RaiaPollError(message)


_ID_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "prompt": ("prompt_id",),
    "message": ("conversation_id", "question_message_id"),
    "files": ("file_ids",),
}
