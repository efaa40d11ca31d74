"""Reading and checking a batch's rows: records, CSV, JSONL, keys and row ranges; every error before a request."""

from __future__ import annotations

from pathlib import Path

import pytest

from raia_provider.engines.batch_input import check_row_range, keyed_rows, load_records
from raia_provider.exceptions import RaiaInputError


def test_csv_and_jsonl_read_into_records(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('id,city\n1,"Paris, FR"\n2,Lyon\n')
    (tmp_path / "a.jsonl").write_text('{"id": 1, "tags": ["x"]}\n\n{"id": 2}\n')
    assert load_records(None, tmp_path / "a.csv")[0] == [{"id": "1", "city": "Paris, FR"}, {"id": "2", "city": "Lyon"}]
    assert load_records(None, str(tmp_path / "a.jsonl"))[0] == [{"id": 1, "tags": ["x"]}, {"id": 2}]
    (tmp_path / "rows.txt").write_text('{"id": 3}\n')
    assert load_records(None, tmp_path / "rows.txt", "jsonl")[0] == [{"id": 3}]


def test_object_storage_paths_are_read_through_fsspec(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id\n7\n")
    assert load_records(None, f"file://{tmp_path}/a.csv")[0] == [{"id": "7"}]


@pytest.mark.parametrize(
    ("records", "path", "message"),
    [
        (None, None, "either as 'records'"),
        ([{"a": 1}], "x.csv", "not both"),
        ("abc", None, "must be a list of dicts, got str"),
        ([], None, "is empty"),
        ([{"a": 1}, 3], None, "item 1 must be a dict"),
    ],
)
def test_records_argument_errors(records: object, path: object, message: str) -> None:
    with pytest.raises(RaiaInputError, match=message):
        load_records(records, path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.parquet", "x", "cannot tell the format"),
        ("a.jsonl", '{"a": 1}\n{"a": \n', "line 2 is not JSON"),
        ("a.jsonl", "[1, 2]\n", "line 1 must be a JSON object, got list"),
        ("a.csv", "id,id\n1,2\n", "repeats a column name"),
        ("a.csv", "id,city\n1,Paris,extra\n", "line 2 has more cells than the header"),
        ("a.csv", "", "has no header row"),
        ("a.csv", "id\n", "holds no records"),
    ],
)
def test_file_errors_name_the_file_and_line(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(RaiaInputError, match=message):
        load_records(None, tmp_path / name)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RaiaInputError, match=r"argument 'input_path': '.*nope.csv' does not exist"):
        load_records(None, tmp_path / "nope.csv")


def test_keys_come_from_the_key_field_or_the_row_number() -> None:
    records = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    assert [(r.number, r.key) for r in keyed_rows(records, "id", None)] == [(0, "a"), (1, "b"), (2, "c")]
    assert [(r.number, r.key) for r in keyed_rows(records, None, (1, 3))] == [(1, "1"), (2, "2")]
    assert [r.key for r in keyed_rows(records, None, (2, 99))] == ["2"]  # a last chunk may overshoot


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"id": 1}, {"id": 1}], "rows 0 and 1 share the key '1'"),
        ([{"id": 1}, {"name": "x"}], "row 1 has no value for 'id'"),
        ([{"id": " "}], "row 0 has no value for 'id'"),
    ],
)
def test_key_errors(records: list[dict[str, object]], message: str) -> None:
    with pytest.raises(RaiaInputError, match=message):
        keyed_rows(records, "id", None)


@pytest.mark.parametrize("bad", [[1], [3, 3], [-1, 2], ["0", "5"], "0-5", [True, 3]])
def test_row_range_must_be_start_before_stop(bad: object) -> None:
    with pytest.raises(RaiaInputError, match="argument 'row_range' must be"):
        check_row_range(bad)


def test_row_range_accepts_a_pair() -> None:
    assert check_row_range([0, 5]) == (0, 5)
    assert check_row_range((5, 10)) == (5, 10)
    assert check_row_range(None) is None
