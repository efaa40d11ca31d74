"""Answers as data (issue 17, part 2): parsing, schema and model validation, and the errors a user can act on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from raia_provider.engines.answers import AnswerShape
from raia_provider.exceptions import RaiaAnswerFormatError, RaiaInputError

INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "date": {"type": "string"},
        "total": {"type": "number"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"amount": {"type": "number"}}}},
    },
    "required": ["vendor", "total"],
}


class Invoice(BaseModel):
    vendor: str
    total: float


def shape(**arguments: Any) -> AnswerShape | None:
    arguments.setdefault("output_format", None)
    arguments.setdefault("output_schema", None)
    return AnswerShape.from_arguments(owner="RaiaPromptOperator 't'", **arguments)


def test_no_format_and_no_schema_is_a_free_text_answer() -> None:
    assert shape() is None
    assert shape(output_format="text") is None


@pytest.mark.parametrize(
    ("answer", "parsed"),
    [
        ('{"label": "positive", "score": 0.9}', {"label": "positive", "score": 0.9}),
        ("[1, 2]", [1, 2]),
        ('```json\n{"label": "neutral"}\n```', {"label": "neutral"}),
        ('  ```\n{"label": "neutral"}```  ', {"label": "neutral"}),
    ],
)
def test_a_json_answer_is_parsed_and_one_code_fence_is_read_through(answer: str, parsed: Any) -> None:
    json_shape = shape(output_format="json")
    assert json_shape is not None
    assert json_shape.parse(answer) == parsed


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("The sentiment is positive.", "the answer is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        ('{"label": "positive"} and more', "the answer is not valid JSON (Extra data"),
        ('Here it is: ```json\n{"a": 1}\n```', "the answer is not valid JSON"),
        ("", "the answer is empty"),
        (None, "the answer is empty"),
        ("[" * 100_000 + "]" * 100_000, "the answer is JSON nested too deeply to read"),
    ],
)
def test_an_answer_that_is_not_json_names_the_reason_and_keeps_the_answer(answer: str | None, reason: str) -> None:
    json_shape = shape(output_format="json")
    assert json_shape is not None
    with pytest.raises(RaiaAnswerFormatError) as raised:
        json_shape.parse(answer)
    assert raised.value.path == "$"
    assert raised.value.reason.startswith(reason)
    assert raised.value.answer == answer
    assert "Tell the agent to answer with JSON only" in str(raised.value)
    assert len(str(raised.value)) < 800  # a huge answer is quoted, not printed whole


@pytest.mark.parametrize(
    ("answer", "path", "reason"),
    [
        ({"vendor": "ACME"}, "$", "'total' is a required property"),
        ({"vendor": "ACME", "total": "12.50"}, "$.total", "'12.50' is not of type 'number'"),
        ({"vendor": "ACME", "total": 3, "lines": [{"amount": 1}, {"amount": "x"}]}, "$.lines[1].amount", "'x'"),
    ],
)
def test_a_schema_mismatch_names_the_json_path_and_the_reason(answer: Any, path: str, reason: str) -> None:
    schema_shape = shape(output_schema=INVOICE_SCHEMA)
    assert schema_shape is not None
    with pytest.raises(RaiaAnswerFormatError) as raised:
        schema_shape.parse(json.dumps(answer))
    assert raised.value.path == path
    assert reason in raised.value.reason
    assert f"at {path}: " in str(raised.value)


def test_an_answer_matching_the_schema_is_returned_as_parsed() -> None:
    schema_shape = shape(output_schema=INVOICE_SCHEMA, output_format="json")
    assert schema_shape is not None
    answer = {"vendor": "ACME", "date": "2026-11-30", "total": 12.5}
    assert schema_shape.parse(json.dumps(answer)) == answer


def test_a_pydantic_model_validates_and_returns_plain_json_types() -> None:
    model_shape = shape(output_schema=Invoice)
    assert model_shape is not None
    assert model_shape.parse('{"vendor": "ACME", "total": "12.5"}') == {"vendor": "ACME", "total": 12.5}
    with pytest.raises(RaiaAnswerFormatError) as raised:
        model_shape.parse('{"total": "twelve"}')
    assert raised.value.path in ("$.vendor", "$.total")
    assert "(and 1 more)" in raised.value.reason


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"output_format": "xml"}, "argument 'output_format' must be one of ('text', 'json') or None, got 'xml'"),
        ({"output_schema": {"type": "objekt"}}, "argument 'output_schema' is not a valid JSON Schema (at type:"),
        ({"output_schema": "vendor, total"}, "argument 'output_schema' must be a JSON Schema (a dict) or a pydantic"),
        ({"output_schema": dict}, "argument 'output_schema' must be a JSON Schema (a dict) or a pydantic"),
        ({"output_schema": INVOICE_SCHEMA, "output_format": "text"}, "'output_format' is 'text'"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(RaiaInputError) as raised:
        shape(**arguments)
    assert str(raised.value).startswith("RaiaPromptOperator 't': ")
    assert message in str(raised.value)
