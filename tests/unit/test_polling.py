"""The one poll loop (``raia_provider.engines.polling``), driven directly: no HTTP, a fake clock, recorded sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.engines.polling import (
    READ,
    PollTarget,
    Reading,
    arun_poll,
    assess,
    poll_steps,
    result_from_event,
    run_poll,
)
from raia_provider.exceptions import (
    RaiaAuthError,
    RaiaConnectionError,
    RaiaMalformedResponseError,
    RaiaMessageFailedError,
    RaiaNotFoundError,
    RaiaPollError,
    RaiaPromptFailedError,
    RaiaRateLimitError,
    RaiaResponseError,
    RaiaServerError,
    RaiaTriggerEventError,
    RaiaWaitTimeoutError,
    is_transient,
)
from raia_provider.models.conversations import MessageReply
from raia_provider.models.prompts import PromptResult

PROMPT = PollTarget.prompt("p-1")
MESSAGE = PollTarget.message("c-1", "m-1")
ANSWER = {"response": "42", "total_tokens": 12, "status": "completed", "prompt_id": "p-1"}
#: No jitter, and a backoff of 2, 4, 8 ... seconds: the recorded sleeps are exact.
POLICY = RetryPolicy(max_attempts=3, initial_wait=2.0, max_wait=30.0, jitter=0.0)
START = 1_000_000.0


class FakeClock:
    """A wall clock that only moves when the fake sleep says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedRead:
    """Stands in for a target's read: returns (or raises) the scripted outcomes in order."""

    def __init__(self, outcomes: Iterable[Reading | BaseException]) -> None:
        self._outcomes = list(outcomes)
        self.calls = 0

    def __call__(self) -> Reading:
        if self.calls >= len(self._outcomes):
            raise AssertionError(f"read more often than scripted ({len(self._outcomes)} outcomes)")
        outcome = self._outcomes[self.calls]
        self.calls += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def api_error(error_type: type[Any], status: int, **extra: Any) -> Any:
    return error_type(f"HTTP {status}", status_code=status, method="GET", path="/prompts/p-1/response-on", **extra)


PENDING = Reading("pending")
COMPLETED = Reading("completed", result=ANSWER)


def drive(
    outcomes: Iterable[Reading | BaseException],
    *,
    poll_interval: float = 1.0,
    timeout: float = 3600.0,
    policy: RetryPolicy = POLICY,
    target: PollTarget = PROMPT,
) -> tuple[dict[str, Any], ScriptedRead, FakeClock]:
    clock = FakeClock()
    read = ScriptedRead(outcomes)
    steps = poll_steps(target, poll_interval=poll_interval, end_time=clock() + timeout, policy=policy, now=clock)
    event = run_poll(steps, read, clock.sleep)
    return event, read, clock


# -- assess: the one status evaluation -------------------------------------------------------------------


@pytest.mark.parametrize("status", [None, "pending"])
def test_assess_not_ready(status: str | None) -> None:
    assert assess("prompt", status, None, {"ignored": True}) == Reading("pending")


def test_assess_completed_keeps_the_result() -> None:
    assert assess("prompt", "completed", None, ANSWER) == Reading("completed", result=ANSWER)


def test_assess_failed_keeps_raias_error() -> None:
    assert assess("message", "failed", "model overloaded", None) == Reading("failed", error="model overloaded")


@pytest.mark.parametrize("error", [None, ""])
def test_assess_failed_without_error_text_says_so(error: str | None) -> None:
    reading = assess("prompt", "failed", error, None)
    assert (reading.status, reading.error) == ("failed", "raia gave no error text")


@pytest.mark.parametrize("status", ["weird", "running", "COMPLETED", "success"])
def test_assess_unknown_status_raises_naming_it(status: str) -> None:
    with pytest.raises(RaiaResponseError) as caught:
        assess("prompt", status, None, ANSWER)
    assert repr(status) in str(caught.value)
    assert "prompt poll" in str(caught.value)
    assert not is_transient(caught.value)  # a contract change does not heal by polling again


def test_unknown_status_ends_the_wait_at_the_first_read() -> None:
    clock = FakeClock()
    reads: list[str] = []

    def read() -> Reading:
        reads.append("weird")
        return assess("prompt", "weird", None, None)

    steps = poll_steps(PROMPT, poll_interval=1.0, end_time=clock() + 100, policy=POLICY, now=clock)
    event = run_poll(steps, read, clock.sleep)
    assert event["status"] == "error"
    assert (len(reads), clock.sleeps) == (1, [])


# -- PollTarget --------------------------------------------------------------------------------------------


def test_targets_name_their_ids() -> None:
    assert (PROMPT.kind, PROMPT.ids) == ("prompt", {"prompt_id": "p-1"})
    assert (MESSAGE.kind, MESSAGE.ids) == ("message", {"conversation_id": "c-1", "question_message_id": "m-1"})
    assert PROMPT.describe() == "prompt p-1"
    assert MESSAGE.describe() == "reply to message m-1 in conversation c-1"


# -- poll_steps, driven by hand (send/throw) ------------------------------------------------------------------


def test_steps_read_first_then_sleep_the_poll_interval_while_pending() -> None:
    clock = FakeClock()
    steps = poll_steps(PROMPT, poll_interval=5.0, end_time=clock() + 100, policy=POLICY, now=clock)
    assert next(steps) is READ
    assert steps.send(PENDING) == 5.0
    clock.now += 5.0
    assert steps.send(None) is READ
    assert steps.send(PENDING) == 5.0
    clock.now += 5.0
    assert steps.send(None) is READ
    with pytest.raises(StopIteration) as stop:
        steps.send(COMPLETED)
    assert stop.value.value == {
        "status": "success",
        "kind": "prompt",
        "prompt_id": "p-1",
        "message": "The prompt p-1 is completed.",
        "result": ANSWER,
    }


def test_steps_thrown_transient_error_backs_off_then_reads_again() -> None:
    clock = FakeClock()
    steps = poll_steps(PROMPT, poll_interval=1.0, end_time=clock() + 100, policy=POLICY, now=clock)
    assert next(steps) is READ
    assert steps.throw(api_error(RaiaServerError, 503)) == 2.0  # backoff 2 s beats the 1 s poll interval
    assert steps.send(None) is READ
    assert steps.throw(api_error(RaiaServerError, 503)) == 4.0
    assert steps.send(None) is READ
    with pytest.raises(StopIteration) as stop:
        steps.throw(api_error(RaiaServerError, 503))
    assert stop.value.value["status"] == "error"
    assert "after 3 failed reads" in stop.value.value["message"]


def test_steps_poll_interval_wins_over_a_shorter_backoff() -> None:
    clock = FakeClock()
    steps = poll_steps(PROMPT, poll_interval=10.0, end_time=clock() + 100, policy=POLICY, now=clock)
    next(steps)
    assert steps.throw(RaiaConnectionError("refused")) == 10.0


def test_steps_failed_reading_ends_with_a_failed_event_carrying_the_error() -> None:
    steps = poll_steps(MESSAGE, poll_interval=1.0, end_time=START + 100, policy=POLICY, now=lambda: START)
    next(steps)
    with pytest.raises(StopIteration) as stop:
        steps.send(Reading("failed", error="model overloaded"))
    assert stop.value.value == {
        "status": "failed",
        "kind": "message",
        "conversation_id": "c-1",
        "question_message_id": "m-1",
        "message": "raia reports the reply to message m-1 in conversation c-1 failed: model overloaded",
        "error": "model overloaded",
    }


def test_steps_read_even_when_the_deadline_already_passed() -> None:
    steps = poll_steps(PROMPT, poll_interval=1.0, end_time=START - 10, policy=POLICY, now=lambda: START)
    assert next(steps) is READ
    with pytest.raises(StopIteration) as stop:
        steps.send(COMPLETED)
    assert stop.value.value["status"] == "success"


# -- run_poll: the blocking driver ------------------------------------------------------------------------------


def test_null_then_completed() -> None:
    event, read, clock = drive([PENDING, PENDING, COMPLETED], poll_interval=3.0)
    assert event["status"] == "success"
    assert event["result"] == ANSWER
    assert (read.calls, clock.sleeps) == (3, [3.0, 3.0])


def test_null_from_raia_reads_as_pending_through_the_prompt_target() -> None:
    class Hook:
        answers: list[Any] = [None]

        def get_prompt_response(self, *, prompt_id: str) -> Any:
            assert prompt_id == "p-1"
            return self.answers.pop(0)

        def redact(self, text: str) -> str:
            return text

    assert PROMPT.read(Hook()) == Reading("pending")  # type: ignore[arg-type]


class RedactingHook:
    """A hook whose key is ``SECRET``: what the targets read comes back with it echoed in raia's error."""

    def get_prompt_response(self, *, prompt_id: str) -> Any:
        return PromptResult.model_validate(
            {"status": "failed", "totalTokens": None, "response": None, "error": "refused SECRET"}
        )

    def get_message_reply(self, *, conversation_id: str, question_message_id: str) -> Any:
        return MessageReply.model_validate({"status": "error", "error": "refused SECRET"})

    def redact(self, text: str) -> str:
        return text.replace("SECRET", "***")


@pytest.mark.parametrize("target", [PROMPT, MESSAGE], ids=["prompt", "message"])
def test_read_redacts_the_key_from_raias_error_text(target: PollTarget) -> None:
    assert target.read(RedactingHook()) == Reading("failed", error="refused ***")  # type: ignore[arg-type]


def test_transient_error_then_success() -> None:
    event, read, clock = drive([api_error(RaiaServerError, 503), COMPLETED], poll_interval=1.0)
    assert event["status"] == "success"
    assert (read.calls, clock.sleeps) == (2, [2.0])


def test_malformed_body_is_transient_too() -> None:
    event, read, _ = drive([RaiaMalformedResponseError("cut short"), COMPLETED])
    assert (event["status"], read.calls) == ("success", 2)


def test_persistent_transient_errors_give_up_after_max_attempts() -> None:
    event, read, clock = drive([api_error(RaiaServerError, 503)] * 3, poll_interval=1.0)
    assert event["status"] == "error"
    assert event["message"].startswith("Gave up waiting for the prompt p-1 after 3 failed reads: ")
    assert "HTTP 503" in event["message"]
    assert (read.calls, clock.sleeps) == (3, [2.0, 4.0])
    assert "result" not in event


def test_failures_in_a_row_reset_after_a_good_read() -> None:
    policy = RetryPolicy(max_attempts=2, initial_wait=0.0, max_wait=0.0, jitter=0.0)
    error = RaiaConnectionError("reset")
    event, read, _ = drive([error, PENDING, error, PENDING, error, COMPLETED], policy=policy)
    assert (event["status"], read.calls) == ("success", 6)


@pytest.mark.parametrize(
    "error",
    [
        api_error(RaiaAuthError, 403),
        api_error(RaiaNotFoundError, 404),
        RaiaResponseError("missing field status"),
    ],
    ids=["403", "404", "contract"],
)
def test_permanent_error_ends_the_wait_at_once(error: Exception) -> None:
    event, read, clock = drive([error, COMPLETED])
    assert event["status"] == "error"
    assert event["message"] == f"Gave up waiting for the prompt p-1: {error}"
    assert (read.calls, clock.sleeps) == (1, [])


def test_retry_after_is_honoured() -> None:
    limited = api_error(RaiaRateLimitError, 429, retry_after=7.0)
    event, _, clock = drive([limited, COMPLETED], poll_interval=1.0)
    assert event["status"] == "success"
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] >= 7.0


def test_deadline_gives_a_timeout_event_and_shortens_the_last_sleep() -> None:
    event, read, clock = drive([PENDING] * 10, poll_interval=10.0, timeout=25.0)
    assert event == {
        "status": "timeout",
        "kind": "prompt",
        "prompt_id": "p-1",
        "message": "The prompt p-1 was still pending when the wait timed out.",
    }
    assert clock.sleeps == [10.0, 10.0, 5.0]
    assert read.calls == 4
    assert clock.now == START + 25.0


def test_deadline_also_bounds_a_backoff() -> None:
    limited = api_error(RaiaRateLimitError, 429, retry_after=60.0)
    event, _, clock = drive([limited, PENDING], poll_interval=1.0, timeout=20.0)
    assert event["status"] == "timeout"
    assert clock.sleeps == [20.0]


def test_unexpected_exception_becomes_an_error_event() -> None:
    event, read, clock = drive([ValueError("boom"), COMPLETED])
    assert event["status"] == "error"
    assert event["message"] == "Gave up waiting for the prompt p-1: ValueError: boom"
    assert (read.calls, clock.sleeps) == (1, [])


def test_message_target_event_carries_both_ids() -> None:
    reply = {"conversation_id": "c-1", "question_message_id": "m-1", "response": "hi", "message_id": "m-2"}
    event, _, _ = drive([PENDING, Reading("completed", result=reply)], target=MESSAGE)
    assert (event["kind"], event["conversation_id"], event["question_message_id"]) == ("message", "c-1", "m-1")
    assert event["result"] == reply


# -- arun_poll: the async driver runs the same loop --------------------------------------------------------------


async def test_arun_poll_same_loop_as_run_poll() -> None:
    clock = FakeClock()
    read = ScriptedRead([PENDING, api_error(RaiaServerError, 502), COMPLETED])

    async def aread() -> Reading:
        return read()

    async def asleep(seconds: float) -> None:
        clock.sleep(seconds)

    steps = poll_steps(PROMPT, poll_interval=1.0, end_time=clock() + 100, policy=POLICY, now=clock)
    event = await arun_poll(steps, aread, asleep)
    assert (event["status"], event["result"]) == ("success", ANSWER)
    assert (read.calls, clock.sleeps) == (3, [1.0, 2.0])


# -- result_from_event -----------------------------------------------------------------------------------------


def prompt_event(status: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "kind": "prompt", "prompt_id": "p-1", "message": f"it is {status}", **extra}


def message_event(status: str, **extra: Any) -> dict[str, Any]:
    ids = {"conversation_id": "c-1", "question_message_id": "m-1"}
    return {"status": status, "kind": "message", **ids, "message": f"it is {status}", **extra}


@pytest.mark.parametrize("expected", ["prompt", PROMPT])
def test_success_returns_the_result(expected: Any) -> None:
    assert result_from_event(prompt_event("success", result=ANSWER), expected) == ANSWER


def test_message_success_returns_the_result() -> None:
    assert result_from_event(message_event("success", result={"response": "hi"}), MESSAGE) == {"response": "hi"}


def test_failed_prompt_raises_with_ids_and_raias_error() -> None:
    with pytest.raises(RaiaPromptFailedError) as caught:
        result_from_event(prompt_event("failed", error="model overloaded"), "prompt")
    assert str(caught.value) == "it is failed"
    assert (caught.value.prompt_id, caught.value.raia_error) == ("p-1", "model overloaded")


def test_failed_message_raises_with_ids_and_raias_error() -> None:
    with pytest.raises(RaiaMessageFailedError) as caught:
        result_from_event(message_event("failed", error="no agent"), "message")
    error = caught.value
    assert (error.conversation_id, error.question_message_id, error.raia_error) == ("c-1", "m-1", "no agent")


@pytest.mark.parametrize(("status", "error_type"), [("timeout", RaiaWaitTimeoutError), ("error", RaiaPollError)])
@pytest.mark.parametrize("make", [prompt_event, message_event])
def test_timeout_and_error_raise_their_types_with_the_message(
    status: str, error_type: type[Exception], make: Callable[..., dict[str, Any]]
) -> None:
    event = make(status)
    with pytest.raises(error_type, match=rf"^it is {status}$"):
        result_from_event(event, event["kind"])


def test_event_without_message_falls_back_to_its_status() -> None:
    event = prompt_event("timeout")
    del event["message"]
    with pytest.raises(RaiaWaitTimeoutError, match=r"^timeout$"):
        result_from_event(event, "prompt")


@pytest.mark.parametrize("event", [None, "success", ["success"], 42], ids=["missing", "str", "list", "int"])
def test_missing_or_non_dict_event(event: Any) -> None:
    with pytest.raises(RaiaTriggerEventError, match="without a usable event"):
        result_from_event(event, "prompt")


@pytest.mark.parametrize("status", ["weird", None, "completed", "SUCCESS"])
def test_unknown_event_status(status: Any) -> None:
    with pytest.raises(RaiaTriggerEventError, match="unknown status"):
        result_from_event(prompt_event("success", result=ANSWER) | {"status": status}, "prompt")


def test_event_of_the_wrong_kind() -> None:
    with pytest.raises(RaiaTriggerEventError, match="waited for a message but resumed with an event about 'prompt'"):
        result_from_event(prompt_event("success", result=ANSWER), "message")


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"status": "success", "kind": "prompt", "result": ANSWER}, "prompt"),
        (prompt_event("success", result=ANSWER, prompt_id=""), "prompt"),
        (prompt_event("failed", prompt_id=7), "prompt"),
        ({"status": "success", "kind": "message", "conversation_id": "c-1", "result": {}}, "message"),
    ],
    ids=["no-prompt-id", "empty-prompt-id", "non-str-prompt-id", "no-question-id"],
)
def test_event_missing_its_ids(event: dict[str, Any], expected: str) -> None:
    with pytest.raises(RaiaTriggerEventError, match="lacks its ids"):
        result_from_event(event, expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (prompt_event("success", result=ANSWER, prompt_id="p-2"), PROMPT),
        (message_event("success", result={}, question_message_id="m-9"), MESSAGE),
    ],
)
def test_event_about_another_target(event: dict[str, Any], expected: PollTarget) -> None:
    with pytest.raises(RaiaTriggerEventError, match="another wait"):
        result_from_event(event, expected)


@pytest.mark.parametrize("result", [None, "42", ["42"]], ids=["missing", "str", "list"])
def test_success_without_a_result(result: Any) -> None:
    event = prompt_event("success")
    if result is not None:
        event["result"] = result
    with pytest.raises(RaiaTriggerEventError, match="success event without a result"):
        result_from_event(event, "prompt")


def test_run_poll_event_round_trips_through_result_from_event() -> None:
    event, _, _ = drive([PENDING, COMPLETED])
    assert result_from_event(event, PROMPT) == ANSWER
    failed, _, _ = drive([Reading("failed", error="nope")])
    with pytest.raises(RaiaPromptFailedError) as caught:
        result_from_event(failed, PROMPT)
    assert caught.value.raia_error == "nope"
    assert "nope" in str(caught.value)
