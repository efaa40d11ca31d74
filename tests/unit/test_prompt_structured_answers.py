"""``RaiaPromptOperator`` with ``output_format`` / ``output_schema`` (issue 17, part 2), mocked at the HTTP layer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from pydantic import BaseModel

from raia_provider.exceptions import RaiaAnswerFormatError, RaiaInputError
from raia_provider.operators.prompt import RaiaPromptOperator
from tests.conftest import UNIT_BASE_URL
from tests.task_doubles import FakeTI
from tests.unit.payloads import AGENT_PROFILE, PROFILE_PATH, profile_with_output_schema
from tests.unit.test_prompt_operators import prompt_event

pytestmark = pytest.mark.usefixtures("unit_connection")

SENTIMENT = {
    "type": "object",
    "properties": {"label": {"enum": ["positive", "neutral", "negative"]}, "score": {"type": "number"}},
    "required": ["label", "score"],
}


class Sentiment(BaseModel):
    label: str
    score: float


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def answering(mocked: responses.RequestsMock, text: str) -> None:
    body = {"status": "completed", "totalTokens": 9, "response": text, "error": None}
    mocked.post(UNIT_BASE_URL + "/prompts", json=body)


def test_a_json_answer_is_returned_parsed(mocked: responses.RequestsMock) -> None:
    answering(mocked, '{"label": "positive", "score": 0.93}')
    operator = RaiaPromptOperator(task_id="rate", prompt="Rate it", output_schema=SENTIMENT)
    result = operator.execute({"ti": FakeTI()})
    assert result == {"response": {"label": "positive", "score": 0.93}, "total_tokens": 9, "status": "completed"}


def test_a_model_answer_is_returned_as_its_plain_json_dump(mocked: responses.RequestsMock) -> None:
    answering(mocked, '```json\n{"label": "neutral", "score": "0.5"}\n```')
    operator = RaiaPromptOperator(task_id="rate", prompt="Rate it", output_schema=Sentiment)
    assert operator.execute({"ti": FakeTI()})["response"] == {"label": "neutral", "score": 0.5}


def test_an_answer_breaking_the_schema_fails_the_task_naming_the_path(mocked: responses.RequestsMock) -> None:
    answering(mocked, '{"label": "great", "score": 1}')
    operator = RaiaPromptOperator(task_id="rate", prompt="Rate it", output_schema=SENTIMENT)
    with pytest.raises(RaiaAnswerFormatError) as raised:
        operator.execute({"ti": FakeTI()})
    assert raised.value.path == "$.label"
    assert raised.value.answer == '{"label": "great", "score": 1}'


def test_free_text_stays_text_when_the_agent_has_no_output_schema(mocked: responses.RequestsMock) -> None:
    mocked.get(UNIT_BASE_URL + PROFILE_PATH, json=AGENT_PROFILE)
    answering(mocked, '{"label": "positive"}')
    assert RaiaPromptOperator(task_id="t", prompt="p").execute({"ti": FakeTI()})["response"] == '{"label": "positive"}'


def test_text_format_keeps_a_json_answer_as_text_without_reading_the_profile(mocked: responses.RequestsMock) -> None:
    answering(mocked, '{"label": "positive"}')
    operator = RaiaPromptOperator(task_id="t", prompt="p", output_format="text")
    assert operator.execute({"ti": FakeTI()})["response"] == '{"label": "positive"}'
    assert [call.request.url for call in mocked.calls] == [UNIT_BASE_URL + "/prompts"]


def test_by_default_the_agents_own_output_schema_parses_and_validates(mocked: responses.RequestsMock) -> None:
    mocked.get(UNIT_BASE_URL + PROFILE_PATH, json=profile_with_output_schema(SENTIMENT))
    answering(mocked, '{"label": "positive", "score": 0.9}')
    assert RaiaPromptOperator(task_id="t", prompt="p").execute({"ti": FakeTI()})["response"] == {
        "label": "positive",
        "score": 0.9,
    }


def test_an_answer_breaking_the_agents_own_schema_fails_naming_the_path(mocked: responses.RequestsMock) -> None:
    mocked.get(UNIT_BASE_URL + PROFILE_PATH, json=profile_with_output_schema(SENTIMENT))
    answering(mocked, '{"label": "positive", "score": "high"}')
    with pytest.raises(RaiaAnswerFormatError) as raised:
        RaiaPromptOperator(task_id="t", prompt="p").execute({"ti": FakeTI()})
    assert raised.value.path == "$.score"


def test_a_disabled_agent_schema_leaves_the_answer_as_text(mocked: responses.RequestsMock) -> None:
    mocked.get(UNIT_BASE_URL + PROFILE_PATH, json=profile_with_output_schema(SENTIMENT, enabled=False))
    answering(mocked, "positive")
    assert RaiaPromptOperator(task_id="t", prompt="p").execute({"ti": FakeTI()})["response"] == "positive"


def test_an_unusable_agent_schema_still_parses_the_json_answer(
    mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(UNIT_BASE_URL + PROFILE_PATH, json=profile_with_output_schema('{"type": "objec'))
    answering(mocked, '{"label": "positive"}')
    assert RaiaPromptOperator(task_id="t", prompt="p").execute({"ti": FakeTI()})["response"] == {"label": "positive"}
    assert "output JSON schema cannot be used" in caplog.text


def test_the_agents_schema_read_before_deferring_applies_when_the_task_resumes(mocked: responses.RequestsMock) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    mocked.get(UNIT_BASE_URL + PROFILE_PATH, json=profile_with_output_schema(SENTIMENT))
    mocked.post(UNIT_BASE_URL + "/prompts/async", json={"promptId": "p"})
    with pytest.raises(TaskDeferred) as deferred:
        RaiaPromptOperator(task_id="t", prompt="p", deferrable=True).execute({"ti": FakeTI()})
    kwargs = deferred.value.kwargs
    assert kwargs == {"agent_output": {"schema": SENTIMENT}}
    json.dumps(kwargs)  # kept in the metadata database: plain JSON

    resumed = RaiaPromptOperator(task_id="t", prompt="p", deferrable=True)  # a fresh worker's instance
    answer = {"response": '{"label": "great", "score": 1}', "total_tokens": 3, "status": "completed", "prompt_id": "p"}
    with pytest.raises(RaiaAnswerFormatError, match=r"\$\.label"):
        resumed.execute_complete({"ti": FakeTI()}, prompt_event("success", result=answer), **kwargs)


def test_the_deferred_path_parses_the_answer_the_trigger_brought() -> None:
    operator = RaiaPromptOperator(task_id="rate", prompt="Rate it", output_format="json", deferrable=True)
    answer = {"response": json.dumps({"label": "negative"}), "total_tokens": 3, "status": "completed", "prompt_id": "p"}
    result: dict[str, Any] = operator.execute_complete({"ti": FakeTI()}, prompt_event("success", result=answer))
    assert result == {**answer, "response": {"label": "negative"}}


def test_a_bad_schema_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(RaiaInputError, match=r"RaiaPromptOperator 'rate': argument 'output_schema' is not a valid"):
        RaiaPromptOperator(task_id="rate", prompt="Rate it", output_schema={"type": 7})
