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


def test_free_text_stays_text_without_a_format(mocked: responses.RequestsMock) -> None:
    answering(mocked, '{"label": "positive"}')
    assert RaiaPromptOperator(task_id="t", prompt="p").execute({"ti": FakeTI()})["response"] == '{"label": "positive"}'


def test_the_deferred_path_parses_the_answer_the_trigger_brought() -> None:
    operator = RaiaPromptOperator(task_id="rate", prompt="Rate it", output_format="json", deferrable=True)
    answer = {"response": json.dumps({"label": "negative"}), "total_tokens": 3, "status": "completed", "prompt_id": "p"}
    result: dict[str, Any] = operator.execute_complete({"ti": FakeTI()}, prompt_event("success", result=answer))
    assert result == {**answer, "response": {"label": "negative"}}


def test_a_bad_schema_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(RaiaInputError, match=r"RaiaPromptOperator 'rate': argument 'output_schema' is not a valid"):
        RaiaPromptOperator(task_id="rate", prompt="Rate it", output_schema={"type": 7})
