"""``RaiaBatchPromptOperator`` with an output schema (issue 17): answers as columns, bad answers as failed rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from raia_provider.exceptions import RaiaInputError, RaiaPartialFailureError
from raia_provider.operators.batch import RaiaBatchPromptOperator
from tests.aiohttp_mock import RecordedRequest, Reply, Router, mock_raia
from tests.conftest import UNIT_BASE_URL
from tests.task_doubles import FakeTI

pytestmark = pytest.mark.usefixtures("unit_connection", "plain_agent")

INVOICE = {
    "type": "object",
    "properties": {"vendor": {"type": "string"}, "total": {"type": "number"}},
    "required": ["vendor", "total"],
}
#: What the agent answers for each document, by the prompt that names it.
ANSWERS = {
    "a.pdf": '{"vendor": "ACME", "total": 12.5}',
    "b.pdf": '```json\n{"vendor": "Globex", "total": 99}\n```',
    "c.pdf": '{"vendor": "Initech", "total": "a lot"}',
    "d.pdf": "I could not read this invoice.",
}


class Invoice(BaseModel):
    vendor: str
    total: float


@pytest.fixture
def raia() -> Iterator[Router]:
    with mock_raia(UNIT_BASE_URL) as router:

        def answer(request: RecordedRequest) -> Reply:
            document = json.loads(request.content)["prompt"].removeprefix("Extract the invoice in ")
            body = {"status": "completed", "totalTokens": 5, "response": ANSWERS[document], "error": None}
            return Reply(200, json=body)

        router.post("/prompts").mock(side_effect=answer)
        yield router


def run(tmp_path: Path, **overrides: Any) -> list[dict[str, Any]]:
    output = tmp_path / "invoices.jsonl"
    arguments: dict[str, Any] = {
        "task_id": "extract",
        "records": [{"id": name, "document": name} for name in ANSWERS],
        "key_field": "id",
        "prompt_template": "Extract the invoice in {{ document }}",
        "output_path": str(output),
        "output_schema": INVOICE,
        "max_failed_ratio": 1.0,
        **overrides,
    }
    RaiaBatchPromptOperator(**arguments).execute({"ti": FakeTI()})
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("schema", [INVOICE, Invoice], ids=["json-schema", "pydantic"])
def test_answers_become_columns_and_bad_answers_fail_their_row(tmp_path: Path, raia: Router, schema: Any) -> None:
    lines = run(tmp_path, output_schema=schema)
    assert [(line["id"], line["vendor"], line["total"], line["status"]) for line in lines] == [
        ("a.pdf", "ACME", 12.5, "completed"),
        ("b.pdf", "Globex", 99, "completed"),
        ("c.pdf", None, None, "failed"),
        ("d.pdf", None, None, "failed"),
    ]
    assert list(lines[0]) == ["id", "document", "vendor", "total", "response", "total_tokens", "status", "error"]
    assert lines[2]["response"] == ANSWERS["c.pdf"]  # the raw answer is kept
    assert "at $.total: " in lines[2]["error"]
    assert "at $: the answer is not valid JSON" in lines[3]["error"]


def test_json_without_a_schema_writes_the_parsed_answer_to_one_column(tmp_path: Path, raia: Router) -> None:
    lines = run(tmp_path, output_schema=None, output_format="json")
    assert lines[1]["answer"] == {"vendor": "Globex", "total": 99}
    assert lines[3]["answer"] is None
    assert lines[3]["status"] == "failed"


def test_bad_answers_count_toward_max_failed_ratio(tmp_path: Path, raia: Router) -> None:
    with pytest.raises(RaiaPartialFailureError):
        run(tmp_path, max_failed_ratio=0.25)


def test_a_record_field_named_like_an_answer_column_is_refused_before_any_request(tmp_path: Path) -> None:
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        route = router.post("/prompts").respond(json={"status": "completed", "response": "{}", "totalTokens": 1})
        with pytest.raises(RaiaInputError, match=r"already have the field\(s\) \['vendor'\]"):
            run(tmp_path, records=[{"id": "a", "document": "a.pdf", "vendor": "ACME"}])
        assert not route.called


def test_a_resumed_batch_reparses_checkpointed_answers_and_asks_again_those_that_do_not_fit(tmp_path: Path) -> None:
    refused = {"d.pdf"}

    def answer(request: RecordedRequest) -> Reply:
        document = json.loads(request.content)["prompt"].removeprefix("Extract the invoice in ")
        if document in refused:
            return Reply(400, json={"status": 400, "message": "VALIDATION_ERROR", "details": []})
        return Reply(200, json={"status": "completed", "totalTokens": 5, "response": ANSWERS[document], "error": None})

    with mock_raia(UNIT_BASE_URL) as router:
        router.post("/prompts").mock(side_effect=answer)
        with pytest.raises(RaiaPartialFailureError):  # an earlier try, answers kept as text
            run(tmp_path, output_schema=None, output_format="text", max_failed_ratio=0.0)

    refused.clear()
    with mock_raia(UNIT_BASE_URL) as router:
        route = router.post("/prompts").mock(side_effect=answer)
        lines = run(tmp_path)

    asked = [json.loads(call.request.content)["prompt"] for call in route.calls]
    assert asked == ["Extract the invoice in c.pdf", "Extract the invoice in d.pdf"]  # a and b fit the schema
    assert [(line["id"], line["vendor"], line["status"]) for line in lines] == [
        ("a.pdf", "ACME", "completed"),
        ("b.pdf", "Globex", "completed"),
        ("c.pdf", None, "failed"),
        ("d.pdf", None, "failed"),
    ]
