"""``RaiaBatchPromptOperator`` mocked (``tests.aiohttp_mock``): checks before any request, outcomes, no key leak."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from raia_provider.exceptions import RaiaInputError, RaiaPartialFailureError
from raia_provider.operators.batch import MANIFEST_XCOM_KEY, RaiaBatchPromptOperator, count_records, row_ranges
from tests.aiohttp_mock import RecordedRequest, Reply, Router, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.task_doubles import FakeTI

pytestmark = pytest.mark.usefixtures("unit_connection", "plain_agent")


@pytest.fixture
def raia() -> Iterator[Router]:
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        yield router


def operator(tmp_path: Path, **overrides: Any) -> RaiaBatchPromptOperator:
    arguments: dict[str, Any] = {
        "task_id": "enrich",
        "records": [{"id": "a", "city": "Paris"}, {"id": "b", "city": "Lyon"}],
        "key_field": "id",
        "prompt_template": "Tell me about {{ city }}",
        "output_path": str(tmp_path / "out.jsonl"),
        **overrides,
    }
    return RaiaBatchPromptOperator(**arguments)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt_template": "  "}, "prompt_template must be a non-blank"),
        ({"prompt_template": "{{ city "}, r"not valid Jinja \(line 1\)"),
        ({"prompt_mode": "batch"}, "prompt_mode must be one of"),
        ({"max_concurrency": 0}, "max_concurrency must be a positive integer, got 0"),
        ({"max_concurrency": 2.5}, "max_concurrency must be a positive integer"),
        ({"requests_per_second": 0}, "requests_per_second must be a positive number or None"),
        ({"max_failed_ratio": 1.5}, "max_failed_ratio must be a number from 0 to 1"),
        ({"timeout": -1}, "timeout must be a positive number of seconds"),
        ({"checkpoint_interval": 0}, "checkpoint_interval must be a positive"),
        ({"row_range": [5, 2]}, "row_range"),
        ({"input_format": "xlsx"}, "input_format must be"),
        ({"key_field": ""}, "key_field must be a field name"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RaiaInputError, match=message):
        operator(tmp_path, **overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt_template": "About {{ country }}"}, r"row 0 \(key 'a'\): UndefinedError: 'country' is undefined"),
        ({"prompt_template": "{{ '' if city == 'Lyon' else city }}"}, r"row 1 \(key 'b'\): the prompt renders blank"),
        ({"records": [{"id": "a", "response": "old"}]}, r"already have the field\(s\) \['response'\]"),
        ({"records": [{"city": "x"}], "key_field": None, "prompt_template": "{{ row_number }}"}, None),
        ({"output_path": ""}, "'output_path' is required"),
        ({"token_tracking_id": "  "}, "argument 'token_tracking_id' must be None or a non-blank string"),
        ({"row_range": [10, 20]}, "selects none of the 2 rows"),
    ],
)
def test_bad_rows_fail_before_any_request(
    tmp_path: Path, raia: Router, overrides: dict[str, Any], message: str | None
) -> None:
    route = raia.post("/prompts").respond(
        json={"status": "completed", "totalTokens": 1, "response": "ok", "error": None}
    )
    if message is None:  # the control case: the same shape of call does send, so the others prove something
        operator(tmp_path, **overrides).execute({"ti": FakeTI()})
        assert route.called
        return
    with pytest.raises(RaiaInputError, match=message):
        operator(tmp_path, **overrides).execute({"ti": FakeTI()})
    assert not route.called
    assert not (tmp_path / "out.jsonl").exists()


def test_a_template_error_counts_the_failing_rows_shows_a_few_and_lists_the_fields(
    tmp_path: Path, raia: Router
) -> None:
    route = raia.post("/prompts").respond(json={"status": "completed", "totalTokens": 1, "response": "ok"})
    records = [{"id": n, "land": f"country {n}", "size": n} for n in range(40)]
    records[7] = {"id": 7, "country": "France", "land": "France", "size": 7}  # the one row that renders
    with pytest.raises(RaiaInputError) as raised:
        operator(tmp_path, records=records, prompt_template="About {{ country }}").execute({"ti": FakeTI()})
    lines = str(raised.value).splitlines()
    assert lines[0] == (
        "argument 'prompt_template' cannot be rendered for every row: 39 of 40 rows fail; nothing was sent."
    )
    assert lines[1:4] == [f"  row {n} (key '{n}'): UndefinedError: 'country' is undefined" for n in (0, 1, 2)]
    assert lines[4] == "  ... and 36 more rows"
    assert lines[5].startswith("The failing rows have the fields 'id', 'land', 'size'; the template also sees 'record'")
    assert not route.called
    assert not (tmp_path / "out.jsonl").exists()


def test_the_template_sees_the_record_its_number_and_the_task_context(tmp_path: Path, raia: Router) -> None:
    sent: list[dict[str, Any]] = []

    def answer(request: RecordedRequest) -> Reply:
        sent.append(json.loads(request.content))
        return Reply(200, json={"status": "completed", "totalTokens": 3, "response": "ok", "error": None})

    raia.post("/prompts").mock(side_effect=answer)
    records = [{"first name": "Ada", "id": 1}]
    operator(
        tmp_path,
        records=records,
        prompt_template='{{ record["first name"] }}/{{ id }}/{{ row_number }}/{{ ds }}',
        token_tracking_id="nightly",
    ).execute({"ti": FakeTI(), "ds": "2026-11-24"})
    assert sent == [{"prompt": "Ada/1/0/2026-11-24", "tokenTrackingId": "nightly"}]


def test_a_bad_request_fails_the_row_not_the_batch_and_the_key_stays_secret(
    tmp_path: Path, raia: Router, logs: Callable[[], str]
) -> None:
    def answer(request: RecordedRequest) -> Reply:
        if "Lyon" in json.loads(request.content)["prompt"]:
            return Reply(400, json={"statusCode": 400, "message": f"bad prompt for {TEST_KEY}"})
        return Reply(200, json={"status": "completed", "totalTokens": 5, "response": "fine", "error": None})

    raia.post("/prompts").mock(side_effect=answer)
    ti = FakeTI()
    with pytest.raises(RaiaPartialFailureError, match=r"1 of 2 row\(s\) failed") as caught:
        operator(tmp_path, max_failed_ratio=0.4).execute({"ti": ti})
    lines = [json.loads(text) for text in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(line["id"], line["status"]) for line in lines] == [("a", "completed"), ("b", "failed")]
    assert "bad prompt for ***" in lines[1]["error"]
    assert caught.value.failed == [{"key": "b", "error": lines[1]["error"]}]
    assert ti.xcom[MANIFEST_XCOM_KEY]["failed"] == 1
    everything = (tmp_path / "out.jsonl").read_text() + str(caught.value) + json.dumps(ti.xcom) + logs()
    everything += "".join(p.read_text() for p in (tmp_path / "out.jsonl.checkpoint").iterdir())
    assert TEST_KEY not in everything

    # With half the rows allowed to fail, the same outcome is a success.
    manifest = operator(tmp_path, max_failed_ratio=0.5).execute({"ti": FakeTI()})
    assert (manifest["completed"], manifest["failed"], manifest["reused"]) == (1, 1, 1)  # "a" came from the checkpoint


def test_row_ranges_split_an_input_for_mapping(tmp_path: Path) -> None:
    assert row_ranges(5, 2) == [[0, 2], [2, 4], [4, 5]]
    assert row_ranges(4, 10) == [[0, 4]]
    with pytest.raises(RaiaInputError, match="positive integers"):
        row_ranges(0, 10)
    (tmp_path / "rows.csv").write_text("id\n1\n2\n3\n")
    assert count_records(tmp_path / "rows.csv") == 3


@pytest.mark.parametrize(
    ("argument", "budget", "pace"),
    [
        (None, 40, 40.0),  # unset: the connection's rate budget
        (5, 40, 5.0),  # set: the argument wins
        (None, None, None),  # neither: no client-side limit
    ],
)
def test_the_batch_paces_at_the_connection_budget_unless_told_otherwise(
    tmp_path: Path,
    raia: Router,
    set_connection: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    logs: Callable[[], str],
    argument: float | None,
    budget: float | None,
    pace: float | None,
) -> None:
    import raia_provider.operators.batch as batch

    set_connection(**({"requests_per_second": budget} if budget is not None else {}))
    rates: list[float | None] = []

    class RecordingGate(batch.RequestGate):
        def __init__(self, rate: float | None = None, **kwargs: Any) -> None:
            rates.append(rate)
            super().__init__(rate, **kwargs)

    monkeypatch.setattr(batch, "RequestGate", RecordingGate)
    raia.post("/prompts").mock(
        return_value=Reply(200, json={"status": "completed", "totalTokens": 1, "response": "ok", "error": None})
    )
    manifest = operator(tmp_path, requests_per_second=argument).execute({"ti": FakeTI()})
    assert (rates, manifest["completed"]) == ([pace], 2)
    described = {
        40.0: "40 requests/s (the connection's rate budget)",
        5.0: "5 requests/s",
        None: "no client-side rate limit",
    }[pace]
    assert f"concurrency 8, {described})" in logs()
