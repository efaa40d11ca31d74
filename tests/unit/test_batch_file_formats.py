"""``RaiaBatchPromptOperator`` writing CSV or Parquet (issue 17): the JSONL rows, as a table a warehouse loads."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel

from raia_provider.engines import batch_pipeline
from raia_provider.engines.answers import AnswerShape
from raia_provider.engines.batch_columns import Column, RecordFields, answer_kinds, output_file_format_of
from raia_provider.engines.batch_writers import ParquetFile
from raia_provider.exceptions import RaiaInputError, RaiaPartialFailureError
from raia_provider.operators.batch import RaiaBatchPromptOperator
from tests.aiohttp_mock import RecordedRequest, Reply, Router, mock_raia
from tests.conftest import UNIT_BASE_URL
from tests.task_doubles import FakeTI

pytestmark = pytest.mark.usefixtures("unit_connection", "plain_agent")

INVOICE = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "total": {"type": "number"},
        "lines": {"type": "integer"},
        "paid": {"type": ["boolean", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["vendor", "total"],
}
#: What the agent answers for each document, by the prompt that names it.
ANSWERS = {
    "a.pdf": '{"vendor": "ACME", "total": 12.5, "lines": 3, "paid": true, "tags": ["q1", "été"]}',
    "b.pdf": '```json\n{"vendor": "Globex", "total": 99, "lines": 1, "paid": null}\n```',
    "c.pdf": '{"vendor": "Initech", "total": "a lot"}',
    "d.pdf": "I could not read this invoice.",
}
#: Records with what a table must cope with: a field some records lack, nested values, mixed kinds, text
#: with commas, quotes and newlines.
RECORDS: list[dict[str, Any]] = [
    {"id": "a", "document": "a.pdf", "pages": 2, "meta": {"source": "mail"}, "note": 'one, "two"\nthree'},
    {"id": "b", "document": "b.pdf", "pages": 10, "meta": ["x", 1], "note": None, "urgent": True},
    {"id": "c", "document": "c.pdf", "pages": 1, "meta": "plain", "note": "ok"},
    {"id": "d", "document": "d.pdf", "pages": 4, "meta": None, "note": "", "urgent": False},
]
COLUMNS = ["id", "document", "pages", "meta", "note", "urgent", *INVOICE["properties"], "response"]
COLUMNS += ["total_tokens", "status", "error"]


class Invoice(BaseModel):
    vendor: str
    total: float
    lines: int | None = None
    paid: bool | None = None
    tags: list[str] | None = None


@pytest.fixture
def raia() -> Iterator[Router]:
    with mock_raia(UNIT_BASE_URL) as router:

        def answer(request: RecordedRequest) -> Reply:
            document = json.loads(request.content)["prompt"].removeprefix("Extract the invoice in ")
            body = {"status": "completed", "totalTokens": 5, "response": ANSWERS[document], "error": None}
            return Reply(200, json=body)

        router.post("/prompts").mock(side_effect=answer)
        yield router


def run(output: Path, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "task_id": "extract",
        "records": RECORDS,
        "key_field": "id",
        "prompt_template": "Extract the invoice in {{ document }}",
        "output_path": str(output),
        "output_schema": INVOICE,
        "max_failed_ratio": 1.0,
        **overrides,
    }
    return RaiaBatchPromptOperator(**arguments).execute({"ti": FakeTI()})  # type: ignore[no-any-return]


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def as_text(value: Any) -> str:
    """What a CSV cell holds for a JSONL value: the documented rule, written out independently."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def as_parquet(value: Any, kind: pa.DataType) -> Any:
    """What a Parquet cell holds for a JSONL value: typed columns keep it, string columns hold its text."""
    if value is None or kind != pa.string():
        return value
    return as_text(value)


@pytest.mark.parametrize("schema", [INVOICE, Invoice], ids=["json-schema", "pydantic"])
def test_csv_and_parquet_hold_the_jsonl_rows_in_order(tmp_path: Path, raia: Router, schema: Any) -> None:
    manifests = {
        suffix: run(tmp_path / f"out.{suffix}", output_schema=schema) for suffix in ("jsonl", "csv", "parquet")
    }
    lines = jsonl(tmp_path / "out.jsonl")
    assert [line["status"] for line in lines] == ["completed", "completed", "failed", "failed"]
    assert {suffix: manifest["output_file_format"] for suffix, manifest in manifests.items()} == {
        "jsonl": "jsonl",
        "csv": "csv",
        "parquet": "parquet",
    }
    assert {manifest["rows"] for manifest in manifests.values()} == {4}

    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        assert list(reader) == [{name: as_text(line.get(name)) for name in COLUMNS} for line in lines]

    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == COLUMNS
    assert table.to_pylist() == [
        {name: as_parquet(line.get(name), table.schema.field(name).type) for name in COLUMNS} for line in lines
    ]


def test_the_columns_are_typed_from_the_records_and_the_output_schema(tmp_path: Path, raia: Router) -> None:
    run(tmp_path / "out.parquet")
    types = {field.name: field.type for field in pq.read_schema(tmp_path / "out.parquet")}
    assert types == {
        "id": pa.string(),
        "document": pa.string(),
        "pages": pa.int64(),  # integers in every record
        "meta": pa.string(),  # an object, a list, a string: JSON text
        "note": pa.string(),
        "urgent": pa.bool_(),  # missing from two records: nulls
        "vendor": pa.string(),
        "total": pa.float64(),
        "lines": pa.int64(),
        "paid": pa.bool_(),  # ["boolean", "null"]
        "tags": pa.string(),  # an array: JSON text
        "response": pa.string(),
        "total_tokens": pa.int64(),
        "status": pa.string(),
        "error": pa.string(),
    }
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert (rows[0]["total"], rows[0]["lines"], rows[0]["paid"], rows[0]["tags"]) == (12.5, 3, True, '["q1", "été"]')
    assert (rows[1]["total"], rows[1]["paid"], rows[1]["urgent"], rows[0]["urgent"]) == (99.0, None, True, None)


def test_failed_rows_keep_their_raw_answer_and_error_in_every_format(tmp_path: Path, raia: Router) -> None:
    run(tmp_path / "out.csv")
    run(tmp_path / "out.parquet")
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as handle:
        from_csv = list(csv.DictReader(handle))
    for rows in (from_csv, pq.read_table(tmp_path / "out.parquet").to_pylist()):
        assert rows[2]["status"] == rows[3]["status"] == "failed"
        assert rows[2]["response"] == ANSWERS["c.pdf"]
        assert "at $.total: " in rows[2]["error"]
        assert "at $: the answer is not valid JSON" in rows[3]["error"]
        assert rows[3]["vendor"] in ("", None)  # no answer columns for a failed row


def test_row_numbers_and_plain_text_answers(tmp_path: Path, raia: Router) -> None:
    records = [{"document": name} for name in ("a.pdf", "d.pdf")]
    run(tmp_path / "out.parquet", records=records, key_field=None, output_schema=None)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == ["document", "row_number", "response", "total_tokens", "status", "error"]
    assert table.schema.field("row_number").type == pa.int64()
    assert table.column("row_number").to_pylist() == [0, 1]
    assert table.column("response").to_pylist() == [ANSWERS["a.pdf"], ANSWERS["d.pdf"]]


@pytest.mark.parametrize(
    ("name", "argument", "expected"),
    [
        ("out.csv", None, "csv"),
        ("out.CSV", None, "csv"),
        ("out.parquet", None, "parquet"),
        ("out.pq", None, "parquet"),
        ("out.jsonl", None, "jsonl"),
        ("out.json", None, "jsonl"),
        ("out", None, "jsonl"),
        ("out.txt", "csv", "csv"),
        ("out.csv", "jsonl", "jsonl"),
        ("out.jsonl", "parquet", "parquet"),
    ],
)
def test_the_format_is_the_argument_or_else_the_suffix(name: str, argument: str | None, expected: str) -> None:
    assert output_file_format_of(argument, Path("/data") / name) == expected


def test_an_inferred_format_is_what_is_written_and_what_the_manifest_says(tmp_path: Path, raia: Router) -> None:
    manifest = run(tmp_path / "answers.pq", output_schema=None)
    assert manifest["output_file_format"] == "parquet"
    assert pq.read_table(tmp_path / "answers.pq").num_rows == 4
    manifest = run(tmp_path / "answers.txt", output_schema=None, output_file_format="csv")
    assert manifest["output_file_format"] == "csv"
    assert (tmp_path / "answers.txt").read_text(encoding="utf-8").startswith("id,document,pages,meta,note,urgent,")


@pytest.mark.parametrize("value", ["xlsx", "CSV", "", 3])
def test_a_bad_format_fails_when_the_dag_is_parsed(tmp_path: Path, value: Any) -> None:
    with pytest.raises(RaiaInputError) as raised:
        RaiaBatchPromptOperator(
            task_id="extract", records=RECORDS, prompt_template="x", output_path=str(tmp_path / "o"),
            output_file_format=value,
        )  # fmt: skip
    message = str(raised.value)
    assert "argument 'output_file_format' must be one of ('jsonl', 'csv', 'parquet') or None" in message
    assert f"got {value!r}" in message


def test_parquet_without_pyarrow_fails_before_any_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # type: ignore[arg-type]
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        route = router.post("/prompts").respond(json={"status": "completed", "response": "{}", "totalTokens": 1})
        for arguments in ({"output_file_format": "parquet"}, {"output_path": str(tmp_path / "out.parquet")}):
            with pytest.raises(RaiaInputError, match=r"pip install 'airflow-provider-raia\[parquet\]'") as raised:
                run(tmp_path / "out.data", output_schema=None, **arguments)
            assert "argument 'output_file_format'" in str(raised.value)
        assert not route.called
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a checkpoint


def test_the_operator_imports_no_pyarrow_until_it_writes_parquet() -> None:
    probe = textwrap.dedent(
        """
        import sys
        from raia_provider.operators.batch import RaiaBatchPromptOperator
        RaiaBatchPromptOperator(task_id="t", records=[{"a": 1}], prompt_template="x", output_path="o.parquet",
                                output_file_format="parquet")
        print("pyarrow" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_resumed_run_writes_what_an_uninterrupted_one_does(tmp_path: Path, suffix: str) -> None:
    def read(path: Path) -> list[dict[str, Any]]:
        if suffix == "parquet":
            return pq.read_table(path).to_pylist()  # type: ignore[no-any-return]
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    broken = {"on": True}
    with mock_raia(UNIT_BASE_URL) as router:

        def answer(request: RecordedRequest) -> Reply:
            document = json.loads(request.content)["prompt"].removeprefix("Extract the invoice in ")
            if broken["on"] and document in ("b.pdf", "d.pdf"):
                return Reply(400, json={"statusCode": 400, "message": "not today"})
            body = {"status": "completed", "totalTokens": 5, "response": ANSWERS[document], "error": None}
            return Reply(200, json=body)

        route = router.post("/prompts").mock(side_effect=answer)
        with pytest.raises(RaiaPartialFailureError):
            run(tmp_path / "resumed" / f"out.{suffix}", max_failed_ratio=0.5)  # b, d refused, c's answer bad
        assert [row["status"] for row in read(tmp_path / "resumed" / f"out.{suffix}")] == [
            "completed", "failed", "failed", "failed",
        ]  # fmt: skip
        broken["on"] = False
        asked = route.call_count
        manifest = run(tmp_path / "resumed" / f"out.{suffix}")
        assert (manifest["reused"], route.call_count - asked) == (1, 3)  # only a came from the checkpoint
        run(tmp_path / "whole" / f"out.{suffix}")
    assert read(tmp_path / "resumed" / f"out.{suffix}") == read(tmp_path / "whole" / f"out.{suffix}")
    assert not (tmp_path / "resumed" / f"out.{suffix}.checkpoint").exists()


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_field_the_first_pass_did_not_see_is_refused_not_dropped(
    tmp_path: Path, raia: Router, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in RECORDS[:2]), encoding="utf-8")
    survey = batch_pipeline.BatchPlan.survey

    def survey_then_change_the_input(plan: batch_pipeline.BatchPlan) -> batch_pipeline.Survey:
        found = survey(plan)
        changed = [RECORDS[0], {**RECORDS[1], "late": "surprise"}]
        source.write_text("".join(json.dumps(record) + "\n" for record in changed), encoding="utf-8")
        return found

    monkeypatch.setattr(batch_pipeline.BatchPlan, "survey", survey_then_change_the_input)
    with pytest.raises(
        RaiaInputError, match=r"changed while the batch ran: row 1 of the output has the field\(s\)"
    ) as raised:
        run(tmp_path / f"out.{suffix}", records=None, input_path=str(source))
    assert "['late']" in str(raised.value)
    assert not (tmp_path / f"out.{suffix}").exists()  # the previous output (none) is left as it was
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", f"out.{suffix}.checkpoint"]


def test_parquet_is_written_in_row_groups_to_object_storage(tmp_path: Path) -> None:
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    attach("memory", fs=fsspec.filesystem("memory"))
    target = ObjectStoragePath("memory://raia-batch-test/out/answers.parquet")
    columns = (Column("n", "integer"), Column("x", "number"), Column("note", "string"))
    writer = ParquetFile(target, columns, rows_per_group=2)
    for n in range(5):
        writer.write_row({"n": n, "x": n if n % 2 else n + 0.5, "note": None if n == 3 else {"n": n}})
    assert not target.exists()
    writer.publish()
    with target.open("rb") as handle:
        local = tmp_path / "copy.parquet"
        local.write_bytes(handle.read())
    assert pq.ParquetFile(local).num_row_groups == 3
    assert pq.read_table(local).to_pylist()[2:4] == [
        {"n": 2, "x": 2.5, "note": '{"n": 2}'},
        {"n": 3, "x": 3.0, "note": None},
    ]


def test_a_value_its_parquet_column_cannot_hold_fails_the_output_clearly(tmp_path: Path) -> None:
    writer = ParquetFile(tmp_path / "out.parquet", (Column("lines", "integer"),))
    writer.write_row({"lines": 3.0})  # a JSON Schema integer may be written so
    with pytest.raises(RaiaInputError, match=r"column 'lines' is integer .* row 1 of the output holds 1180591620"):
        writer.write_row({"lines": 2**70})
    writer.abandon()
    assert list(tmp_path.iterdir()) == []


def test_record_field_kinds_are_the_kind_their_values_share() -> None:
    fields = RecordFields()
    for number, record in enumerate(
        [
            {"i": 1, "f": 1, "s": "a", "mixed": 1, "flag": True, "empty": None, "big": 1},
            {"i": 2, "f": 2.5, "s": None, "mixed": "one", "flag": 1, "empty": None, "big": 2**64},
        ]
    ):
        fields.see(number, record)
    assert fields.kinds == {
        "i": "integer",
        "f": "number",
        "s": "string",
        "mixed": "string",
        "flag": "string",  # a boolean is not an integer
        "empty": None,  # never seen: a string column of nulls
        "big": "string",  # past int64
    }


def test_answer_kinds_follow_the_schema_where_it_is_simple() -> None:
    assert answer_kinds(AnswerShape(model=Invoice)) == {
        "vendor": "string",
        "total": "number",
        "lines": "integer",  # Optional[int]: anyOf integer, null
        "paid": "boolean",
        "tags": "string",
    }
    assert answer_kinds(AnswerShape(schema={"type": "integer"})) == {"answer": "integer"}
    assert answer_kinds(AnswerShape()) == {"answer": "string"}
    mixed = {"type": "object", "properties": {"a": {"type": ["integer", "string"]}, "b": {"enum": [1, 2]}}}
    assert answer_kinds(AnswerShape(schema=mixed)) == {"a": "string", "b": "string"}
