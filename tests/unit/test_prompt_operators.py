"""``RaiaPromptOperator``, ``RaiaSendMessageOperator`` and ``RaiaPromptSensor`` at the HTTP layer (``responses``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import responses
from airflow.providers.common.compat.sdk import PokeReturnValue, TaskDeferred
from responses import matchers

from raia_provider.exceptions import (
    RaiaInputError,
    RaiaMessageFailedError,
    RaiaPollError,
    RaiaPromptFailedError,
    RaiaTriggerEventError,
    RaiaWaitTimeoutError,
)
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.sensors.raia import RaiaPromptSensor
from raia_provider.triggers.raia import RaiaMessageReplyTrigger, RaiaPromptTrigger
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.task_doubles import FakeStateStore, FakeTI
from tests.unit.payloads import ANSWER_MESSAGE, COMPLETED, FAILED, PENDING, PROFILE_PATH, QUESTION_MESSAGE

pytestmark = pytest.mark.usefixtures("unit_connection", "text_agent")

ANSWER = {"response": "42", "total_tokens": 12, "status": "completed"}
ASYNC_ANSWER = {**ANSWER, "prompt_id": "p-1"}
REPLY = {
    "conversation_id": "c-1",
    "question_message_id": "m-1",
    "message_id": "m-2",
    "response": "It ships tomorrow.",
    "status": "completed",
}


def url(path: str) -> str:
    return UNIT_BASE_URL + path


def prompt_calls(mocked: responses.RequestsMock) -> list[Any]:
    """The calls about the prompt itself: without the read of the agent's profile (its output schema)."""
    return [call for call in mocked.calls if call.request.url != url(PROFILE_PATH)]


def context(store: FakeStateStore | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"ti": FakeTI()}
    if store is not None:
        ctx["task_state_store"] = store
    return ctx


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def prompt_op(**overrides: Any) -> RaiaPromptOperator:
    arguments: dict[str, Any] = {"task_id": "ask", "prompt": "What is 6 x 7?", **overrides}
    return RaiaPromptOperator(**arguments)


def message_op(**overrides: Any) -> RaiaSendMessageOperator:
    arguments: dict[str, Any] = {
        "task_id": "send",
        "conversation_id": "c-1",
        "message": "Where is my order?",
        **overrides,
    }
    return RaiaSendMessageOperator(**arguments)


def sensor(**overrides: Any) -> RaiaPromptSensor:
    arguments: dict[str, Any] = {"task_id": "wait", "prompt_id": "p-1", **overrides}
    return RaiaPromptSensor(**arguments)


def deferral(call: Callable[[], Any]) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as caught:
        call()
    return caught.value


# -- RaiaPromptOperator: the blocking path ----------------------------------------------------------------------


def test_default_path_posts_prompts_and_returns_the_answer(mocked: responses.RequestsMock) -> None:
    mocked.post(
        url("/prompts"),
        json=COMPLETED,
        match=[
            matchers.json_params_matcher({"prompt": "What is 6 x 7?", "tokenTrackingId": "dag-1"}, strict_match=True),
            matchers.header_matcher({"Agent-Secret-Key": TEST_KEY}),
        ],
    )
    result = prompt_op(token_tracking_id="dag-1", timeout=45).execute(context())
    assert result == ANSWER
    assert len(prompt_calls(mocked)) == 1


def test_default_path_omits_an_unset_tracking_id(mocked: responses.RequestsMock) -> None:
    mocked.post(
        url("/prompts"),
        json=COMPLETED,
        match=[matchers.json_params_matcher({"prompt": "What is 6 x 7?"}, strict_match=True)],
    )
    assert prompt_op().execute(context()) == ANSWER


def test_default_path_uses_the_timeout_as_read_timeout(mocked: responses.RequestsMock) -> None:
    mocked.post(url("/prompts"), json=COMPLETED, match=[matchers.request_kwargs_matcher({"timeout": (10.0, 45.0)})])
    assert prompt_op(timeout=timedelta(seconds=45)).execute(context()) == ANSWER


def test_default_path_failed_raises_with_raias_error(mocked: responses.RequestsMock) -> None:
    mocked.post(url("/prompts"), json=FAILED)
    with pytest.raises(RaiaPromptFailedError, match="model overloaded") as caught:
        prompt_op().execute(context())
    assert caught.value.raia_error == "model overloaded"
    assert caught.value.prompt_id is None


def test_default_path_failed_never_puts_an_echoed_key_in_the_error(mocked: responses.RequestsMock) -> None:
    mocked.post(url("/prompts"), json={**FAILED, "error": f"upstream refused {TEST_KEY}"})
    with pytest.raises(RaiaPromptFailedError) as caught:
        prompt_op().execute(context())
    assert TEST_KEY not in str(caught.value)


# -- RaiaPromptOperator: the deferrable path ----------------------------------------------------------------


def test_deferrable_submits_pushes_the_id_and_defers(mocked: responses.RequestsMock) -> None:
    mocked.post(
        url("/prompts/async"),
        json={"promptId": "p-1"},
        match=[matchers.json_params_matcher({"prompt": "What is 6 x 7?", "tokenTrackingId": "t"}, strict_match=True)],
    )
    ctx = context()
    before = time.time()
    deferred = deferral(
        lambda: prompt_op(deferrable=True, poll_interval=7, timeout=300, token_tracking_id="t").execute(ctx)
    )
    after = time.time()
    trigger = deferred.trigger
    assert isinstance(trigger, RaiaPromptTrigger)
    assert (trigger.prompt_id, trigger.conn_id, trigger.poll_interval) == ("p-1", "raia_default", 7.0)
    assert before + 300 <= trigger.end_time <= after + 300
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == timedelta(seconds=300 + 7 + 60)
    assert ctx["ti"].pushed == [("prompt_id", "p-1")]
    assert len(prompt_calls(mocked)) == 1


def test_deferrable_honours_a_custom_connection_and_execution_timeout(mocked: responses.RequestsMock) -> None:
    mocked.post(url("/prompts/async"), json={"promptId": "p-1"})
    op = prompt_op(deferrable=True, raia_conn_id="raia_default", execution_timeout=timedelta(minutes=3))
    deferred = deferral(lambda: op.execute(context()))
    assert deferred.timeout == timedelta(minutes=3)


def test_without_waiting_returns_the_prompt_id(mocked: responses.RequestsMock) -> None:
    mocked.post(url("/prompts/async"), json={"promptId": "p-1"})
    ctx = context()
    assert prompt_op(wait_for_completion=False).execute(ctx) == "p-1"
    assert ctx["ti"].pushed == [("prompt_id", "p-1")]


def test_without_waiting_does_not_defer_even_when_deferrable(mocked: responses.RequestsMock) -> None:
    mocked.post(url("/prompts/async"), json={"promptId": "p-1"})
    assert prompt_op(wait_for_completion=False, deferrable=True).execute(context()) == "p-1"


def prompt_event(status: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "kind": "prompt", "prompt_id": "p-1", "message": f"raia says {status}", **extra}


def test_execute_complete_success_returns_the_result() -> None:
    assert prompt_op().execute_complete(context(), prompt_event("success", result=ASYNC_ANSWER)) == ASYNC_ANSWER


@pytest.mark.parametrize(
    ("event", "error_type", "match"),
    [
        (prompt_event("failed", error="model overloaded"), RaiaPromptFailedError, "raia says failed"),
        (prompt_event("timeout"), RaiaWaitTimeoutError, "raia says timeout"),
        (prompt_event("error"), RaiaPollError, "raia says error"),
        (prompt_event("weird"), RaiaTriggerEventError, "unknown status"),
        (None, RaiaTriggerEventError, "without a usable event"),
        (prompt_event("success"), RaiaTriggerEventError, "without a result"),
        (
            {"status": "success", "kind": "message", "conversation_id": "c", "question_message_id": "m"},
            RaiaTriggerEventError,
            "resumed with an event about 'message'",
        ),
    ],
    ids=["failed", "timeout", "error", "unknown", "missing", "no-result", "wrong-kind"],
)
def test_execute_complete_raises_what_the_event_reports(event: Any, error_type: type[Exception], match: str) -> None:
    with pytest.raises(error_type, match=match):
        prompt_op().execute_complete(context(), event)


def test_execute_complete_failed_keeps_prompt_id_and_raias_error() -> None:
    with pytest.raises(RaiaPromptFailedError) as caught:
        prompt_op().execute_complete(context(), prompt_event("failed", error="model overloaded"))
    assert (caught.value.prompt_id, caught.value.raia_error) == ("p-1", "model overloaded")


# -- RaiaPromptOperator: a retry re-attaches to the earlier try's prompt ----------------------------------------


def first_try(mocked: responses.RequestsMock, store: FakeStateStore, **overrides: Any) -> None:
    mocked.post(url("/prompts/async"), json={"promptId": "p-1"})
    deferral(lambda: prompt_op(deferrable=True, **overrides).execute(context(store)))
    remembered = store.data["raia_prompt"]
    assert (remembered["kind"], remembered["ids"]) == ("prompt", {"prompt_id": "p-1"})


@pytest.mark.parametrize("earlier", [None, PENDING, COMPLETED], ids=["null", "pending", "completed"])
def test_retry_reattaches_to_a_live_earlier_prompt(mocked: responses.RequestsMock, earlier: Any) -> None:
    store = FakeStateStore()
    first_try(mocked, store)
    mocked.get(url("/prompts/p-1/response-on"), json=earlier)
    ctx = context(store)
    deferred = deferral(lambda: prompt_op(deferrable=True).execute(ctx))
    assert deferred.trigger.prompt_id == "p-1"
    assert ctx["ti"].pushed == [("prompt_id", "p-1")]
    posts = [call for call in mocked.calls if call.request.method == "POST"]
    assert len(posts) == 1  # no second POST /prompts/async


def test_retry_asks_again_when_the_earlier_prompt_failed(mocked: responses.RequestsMock) -> None:
    store = FakeStateStore()
    first_try(mocked, store)
    mocked.get(url("/prompts/p-1/response-on"), json=FAILED)
    mocked.replace(responses.POST, url("/prompts/async"), json={"promptId": "p-2"})
    deferred = deferral(lambda: prompt_op(deferrable=True).execute(context(store)))
    assert deferred.trigger.prompt_id == "p-2"
    assert store.data["raia_prompt"]["ids"] == {"prompt_id": "p-2"}
    assert [call.request.method for call in prompt_calls(mocked)] == ["POST", "GET", "POST"]


def test_retry_asks_again_when_the_prompt_text_changed(mocked: responses.RequestsMock) -> None:
    store = FakeStateStore()
    first_try(mocked, store)
    mocked.replace(responses.POST, url("/prompts/async"), json={"promptId": "p-2"})
    deferred = deferral(lambda: prompt_op(deferrable=True, prompt="What is 7 x 6?").execute(context(store)))
    assert deferred.trigger.prompt_id == "p-2"
    assert [call.request.method for call in prompt_calls(mocked)] == [
        "POST",
        "POST",
    ]  # the earlier one was not even read


def test_retry_asks_again_when_raia_no_longer_knows_the_prompt(mocked: responses.RequestsMock) -> None:
    store = FakeStateStore()
    first_try(mocked, store)
    mocked.get(url("/prompts/p-1/response-on"), status=404, json={"status": 404, "message": "ENTITY_NOT_FOUND"})
    mocked.replace(responses.POST, url("/prompts/async"), json={"promptId": "p-2"})
    deferred = deferral(lambda: prompt_op(deferrable=True).execute(context(store)))
    assert deferred.trigger.prompt_id == "p-2"


def test_without_a_task_state_store_every_try_submits(mocked: responses.RequestsMock) -> None:
    mocked.post(url("/prompts/async"), json={"promptId": "p-1"})
    deferral(lambda: prompt_op(deferrable=True).execute(context()))
    deferral(lambda: prompt_op(deferrable=True).execute(context()))
    assert [call.request.method for call in prompt_calls(mocked)] == ["POST", "POST"]


# -- bad input: refused before any request ----------------------------------------------------------------------


def _sensor_poke(**overrides: Any) -> Any:
    return sensor(**overrides).poke(context())  # type: ignore[arg-type]


BAD_INPUT: list[tuple[str, Callable[[], Any], str]] = [
    ("prompt-blank", lambda: prompt_op(prompt="").execute(context()), "prompt"),
    ("prompt-whitespace", lambda: prompt_op(prompt="  \n\t").execute(context()), "prompt"),
    ("prompt-not-str", lambda: prompt_op(prompt=42).execute(context()), "prompt"),
    ("prompt-blank-deferrable", lambda: prompt_op(prompt=" ", deferrable=True).execute(context()), "prompt"),
    ("prompt-blank-no-wait", lambda: prompt_op(prompt="", wait_for_completion=False).execute(context()), "prompt"),
    ("poll-interval-zero", lambda: prompt_op(poll_interval=0), "poll_interval"),
    ("poll-interval-negative", lambda: prompt_op(poll_interval=-1), "poll_interval"),
    ("poll-interval-str", lambda: prompt_op(poll_interval="5"), "poll_interval"),
    ("poll-interval-bool", lambda: prompt_op(poll_interval=True), "poll_interval"),
    ("timeout-zero", lambda: prompt_op(timeout=0), "timeout"),
    ("timeout-negative", lambda: prompt_op(timeout=-30), "timeout"),
    ("timeout-zero-timedelta", lambda: prompt_op(timeout=timedelta(0)), "timeout"),
    ("tracking-id-blank", lambda: prompt_op(token_tracking_id="  ").execute(context()), "token_tracking_id"),
    ("conversation-id-blank", lambda: message_op(conversation_id="").execute(context()), "conversation_id"),
    ("conversation-id-whitespace", lambda: message_op(conversation_id=" ").execute(context()), "conversation_id"),
    ("message-blank", lambda: message_op(message="").execute(context()), "message"),
    ("message-whitespace-deferrable", lambda: message_op(message=" ", deferrable=True).execute(context()), "message"),
    ("message-context-not-str", lambda: message_op(message_context=3).execute(context()), "context"),
    ("message-poll-interval-zero", lambda: message_op(poll_interval=0), "poll_interval"),
    ("message-timeout-negative", lambda: message_op(timeout=-1), "timeout"),
    ("sensor-prompt-id-empty", lambda: _sensor_poke(prompt_id=""), "prompt_id"),
    ("sensor-prompt-id-none", lambda: _sensor_poke(prompt_id=None), "prompt_id"),
    ("sensor-prompt-id-rendered-none", lambda: _sensor_poke(prompt_id="None"), "prompt_id"),
    ("sensor-prompt-id-whitespace", lambda: _sensor_poke(prompt_id="   "), "prompt_id"),
    (
        "sensor-deferrable-prompt-id-empty",
        lambda: sensor(prompt_id="", deferrable=True).execute(context()),
        "prompt_id",
    ),
    ("sensor-poke-interval-zero", lambda: sensor(poke_interval=0), "poke_interval"),
    ("sensor-poke-interval-str", lambda: sensor(poke_interval="10"), "poke_interval"),
    ("sensor-timeout-negative", lambda: sensor(timeout=-1), "timeout"),
    ("sensor-timeout-zero-timedelta", lambda: sensor(timeout=timedelta(0)), "timeout"),
]


@pytest.mark.parametrize(("build", "argument"), [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_is_refused_before_any_request(
    mocked: responses.RequestsMock, build: Callable[[], Any], argument: str
) -> None:
    with pytest.raises(RaiaInputError) as caught:
        build()
    assert repr(argument) in str(caught.value) or f"{argument} " in str(caught.value)
    assert len(mocked.calls) == 0


def test_bad_input_message_names_the_operator() -> None:
    with pytest.raises(RaiaInputError, match=r"^RaiaPromptOperator: poll_interval must be a positive number"):
        prompt_op(poll_interval=0)
    with pytest.raises(RaiaInputError, match=r"^RaiaPromptSensor: prompt_id must be the non-empty id"):
        _sensor_poke(prompt_id="")


def test_timedeltas_are_accepted_as_seconds() -> None:
    op = prompt_op(poll_interval=timedelta(seconds=2), timeout=timedelta(minutes=2))
    assert (op.poll_interval, op.wait_timeout) == (2.0, 120.0)
    waits = sensor(poke_interval=timedelta(seconds=3), timeout=timedelta(minutes=1))
    assert (waits.poll_interval, waits.wait_timeout) == (3.0, 60.0)


# -- RaiaPromptSensor --------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, PENDING], ids=["null", "pending"])
def test_sensor_poke_pending_is_false(mocked: responses.RequestsMock, body: Any) -> None:
    mocked.get(url("/prompts/p-1/response-on"), json=body)
    assert sensor().poke(context()) is False  # type: ignore[arg-type]


def test_sensor_poke_completed_returns_the_answer(mocked: responses.RequestsMock) -> None:
    mocked.get(url("/prompts/p-1/response-on"), json=COMPLETED)
    done = sensor(prompt_id=" p-1 ").poke(context())  # type: ignore[arg-type]
    assert isinstance(done, PokeReturnValue)
    assert done.is_done is True
    assert done.xcom_value == ASYNC_ANSWER


def test_sensor_poke_failed_raises(mocked: responses.RequestsMock) -> None:
    mocked.get(url("/prompts/p-1/response-on"), json=FAILED)
    with pytest.raises(RaiaPromptFailedError, match="model overloaded") as caught:
        sensor().poke(context())  # type: ignore[arg-type]
    assert (caught.value.prompt_id, caught.value.raia_error) == ("p-1", "model overloaded")


def test_sensor_poke_failed_never_puts_an_echoed_key_in_the_error(mocked: responses.RequestsMock) -> None:
    mocked.get(url("/prompts/p-1/response-on"), json={**FAILED, "error": f"upstream refused {TEST_KEY}"})
    with pytest.raises(RaiaPromptFailedError) as caught:
        sensor().poke(context())  # type: ignore[arg-type]
    assert TEST_KEY not in str(caught.value)


def test_deferrable_sensor_pokes_once_then_defers(mocked: responses.RequestsMock) -> None:
    mocked.get(url("/prompts/p-1/response-on"), json=PENDING)
    before = time.time()
    deferred = deferral(lambda: sensor(deferrable=True, poke_interval=30, timeout=900).execute(context()))
    after = time.time()
    trigger = deferred.trigger
    assert isinstance(trigger, RaiaPromptTrigger)
    assert (trigger.prompt_id, trigger.conn_id, trigger.poll_interval) == ("p-1", "raia_default", 30.0)
    assert before + 900 <= trigger.end_time <= after + 900
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == timedelta(seconds=900 + 30 + 60)
    assert len(mocked.calls) == 1


def test_deferrable_sensor_answered_at_the_first_poke_does_not_defer(mocked: responses.RequestsMock) -> None:
    mocked.get(url("/prompts/p-1/response-on"), json=COMPLETED)
    assert sensor(deferrable=True).execute(context()) == ASYNC_ANSWER


def test_sensor_execute_complete_checks_the_prompt_id() -> None:
    assert sensor().execute_complete(context(), prompt_event("success", result=ASYNC_ANSWER)) == ASYNC_ANSWER
    other = prompt_event("success", result=ASYNC_ANSWER, prompt_id="p-2")
    with pytest.raises(RaiaTriggerEventError, match="another wait"):
        sensor().execute_complete(context(), other)
    with pytest.raises(RaiaPromptFailedError):
        sensor().execute_complete(context(), prompt_event("failed", error="x"))


# -- RaiaSendMessageOperator ----------------------------------------------------------------------------------


def test_message_sync_path_returns_the_reply(mocked: responses.RequestsMock) -> None:
    mocked.post(
        url("/conversations/c-1/messages"),
        status=201,
        json=ANSWER_MESSAGE,
        match=[
            matchers.json_params_matcher(
                {"message": "Where is my order?", "context": "VIP customer"}, strict_match=True
            )
        ],
    )
    assert message_op(message_context="VIP customer").execute(context()) == REPLY
    assert len(mocked.calls) == 1


def test_message_deferrable_path_submits_pushes_and_defers(mocked: responses.RequestsMock) -> None:
    mocked.post(
        url("/conversations/c-1/messages/async"),
        status=201,
        json=QUESTION_MESSAGE,
        match=[matchers.json_params_matcher({"message": "Where is my order?"}, strict_match=True)],
    )
    ctx = context()
    before = time.time()
    deferred = deferral(lambda: message_op(deferrable=True, poll_interval=3, timeout=120).execute(ctx))
    after = time.time()
    trigger = deferred.trigger
    assert isinstance(trigger, RaiaMessageReplyTrigger)
    assert (trigger.conversation_id, trigger.question_message_id, trigger.conn_id) == ("c-1", "m-1", "raia_default")
    assert trigger.poll_interval == 3.0
    assert before + 120 <= trigger.end_time <= after + 120
    assert deferred.timeout == timedelta(seconds=120 + 3 + 60)
    assert ctx["ti"].pushed == [("question_message_id", "m-1")]


def test_message_retry_reattaches_to_the_earlier_message(mocked: responses.RequestsMock) -> None:
    store = FakeStateStore()
    mocked.post(url("/conversations/c-1/messages/async"), status=201, json=QUESTION_MESSAGE)
    deferral(lambda: message_op(deferrable=True).execute(context(store)))
    mocked.get(url("/conversations/c-1/messages/m-1/response-on"), json={"status": "running"})
    deferred = deferral(lambda: message_op(deferrable=True).execute(context(store)))
    assert deferred.trigger.question_message_id == "m-1"
    assert [call.request.method for call in mocked.calls] == ["POST", "GET"]


def message_event(status: str, **extra: Any) -> dict[str, Any]:
    ids = {"conversation_id": "c-1", "question_message_id": "m-1"}
    return {"status": status, "kind": "message", **ids, "message": f"raia says {status}", **extra}


def test_message_execute_complete() -> None:
    assert message_op().execute_complete(context(), message_event("success", result=REPLY)) == REPLY
    with pytest.raises(RaiaMessageFailedError) as caught:
        message_op().execute_complete(context(), message_event("failed", error="agent unavailable"))
    assert (caught.value.conversation_id, caught.value.raia_error) == ("c-1", "agent unavailable")
    with pytest.raises(RaiaWaitTimeoutError):
        message_op().execute_complete(context(), message_event("timeout"))
    with pytest.raises(RaiaTriggerEventError):
        message_op().execute_complete(context(), prompt_event("success", result=ASYNC_ANSWER))


# -- templating -----------------------------------------------------------------------------------------------


def test_template_fields() -> None:
    assert tuple(RaiaPromptOperator.template_fields) == ("prompt", "token_tracking_id", "files")
    assert tuple(RaiaPromptOperator.template_ext) == (".txt", ".md", ".j2")
    assert tuple(RaiaSendMessageOperator.template_fields) == (
        "conversation_id",
        "message",
        "message_context",
        "files",
    )
    assert tuple(RaiaPromptSensor.template_fields) == ("prompt_id",)


def test_templated_prompt_is_rendered() -> None:
    op = prompt_op(prompt="Summarise {{ params.topic }}", token_tracking_id="{{ params.tag }}")
    op.render_template_fields({"params": {"topic": "rain", "tag": "t-1"}})  # type: ignore[arg-type]
    assert (op.prompt, op.token_tracking_id) == ("Summarise rain", "t-1")
