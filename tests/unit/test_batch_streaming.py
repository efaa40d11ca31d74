"""The pieces that keep a batch's memory flat: lazy input, the compact key check, the checkpoint index, the
ordered output window and files published whole."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from raia_provider.engines import batch_checkpoint, batch_keys
from raia_provider.engines.batch_checkpoint import Checkpoint
from raia_provider.engines.batch_input import Row, record_source
from raia_provider.engines.batch_keys import KeyCheck
from raia_provider.engines.batch_output import OrderedOutput
from raia_provider.engines.batch_runner import RowOutcome
from raia_provider.engines.batch_writers import JsonLinesFile
from raia_provider.engines.whole_files import WholeFile, remove_leftovers, write_whole
from raia_provider.exceptions import RaiaInputError


def check_keys(records: list[dict[str, Any]]) -> list[str | None]:
    check = KeyCheck("id")
    keys = [check.see(number, record) for number, record in enumerate(records)]
    check.raise_first_problem(lambda: ((n, k) for n, k in enumerate(keys) if k is not None))
    return keys


# -- input -------------------------------------------------------------------------------------------------


def test_a_file_is_read_lazily_and_again_from_the_start_each_time(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": 1}\n{"id": 2}\nnot json\n')
    source = record_source(None, tmp_path / "a.jsonl")
    assert next(iter(source)) == {"id": 1}  # the bad third line is not read yet
    assert next(iter(source)) == {"id": 1}  # a new pass starts over
    with pytest.raises(RaiaInputError, match="line 3 is not JSON"):
        list(source)


def test_a_streamed_csv_drops_the_byte_order_mark_and_keeps_quoted_newlines(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes('\ufeffid,note\n1,"two\nlines"\n2,x\n'.encode())
    assert list(record_source(None, tmp_path / "a.csv")) == [
        {"id": "1", "note": "two\nlines"},
        {"id": "2", "note": "x"},
    ]


def test_a_line_separator_inside_a_json_string_is_not_a_new_record(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": 1, "text": "a\u2028b"}\n', encoding="utf-8")
    assert list(record_source(None, tmp_path / "a.jsonl")) == [{"id": 1, "text": "a\u2028b"}]


def test_a_file_that_is_not_utf8_fails_when_read(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes("id\n1\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(RaiaInputError, match="cannot be read as UTF-8 text"):
        list(record_source(None, tmp_path / "a.csv"))


# -- keys --------------------------------------------------------------------------------------------------


def test_keys_that_share_a_fingerprint_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_keys, "hash", lambda key: 7, raising=False)  # every key collides
    assert check_keys([{"id": "a"}, {"id": "b"}, {"id": "c"}]) == ["a", "b", "c"]
    with pytest.raises(RaiaInputError, match="rows 1 and 3 share the key 'b'"):
        check_keys([{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "b"}])


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"id": 1}, {"id": 2}, {"id": 1}, {"x": 0}], "rows 0 and 2 share the key '1'"),
        ([{"id": 1}, {"x": 0}, {"id": 2}, {"id": 1}], "row 1 has no value for 'id'"),
    ],
)
def test_the_first_problem_in_row_order_is_the_one_raised(records: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(RaiaInputError, match=message):
        check_keys(records)


def test_the_key_check_holds_8_bytes_a_row() -> None:
    check = KeyCheck("id")
    for number in range(100_000):
        check.see(number, {"id": f"customer-{number:07d}"})
    held = sum(bucket.buffer_info()[1] * bucket.itemsize for bucket in check._buckets)
    assert held == 100_000 * 8


# -- the checkpoint index ----------------------------------------------------------------------------------


def test_the_index_reads_back_the_line_that_counts_per_prompt(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "cp")
    checkpoint.append([{"key": "a", "prompt_sha": "s1", "status": "submitted", "prompt_id": "p1"}])
    checkpoint.append([{"key": "a", "prompt_sha": "s2", "status": "completed", "response": "for the new prompt"}])
    checkpoint.append([{"key": "a", "prompt_sha": "s1", "status": "completed", "response": "for the old prompt"}])
    saved = checkpoint.saved()
    assert len(saved) == 1
    assert saved.answered("a", "s1")
    assert saved.answered("a", "s2")
    assert not saved.answered("a", "s3")
    assert saved.line("a", "s1")["response"] == "for the old prompt"  # type: ignore[index]
    assert saved.line("a", "s2")["response"] == "for the new prompt"  # type: ignore[index]
    assert saved.line("b", "s1") is None
    saved.close()


def test_a_fingerprint_shared_by_two_prompts_never_reuses_the_wrong_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_checkpoint, "_fingerprint", lambda sha: 1)
    checkpoint = Checkpoint(tmp_path / "cp")
    checkpoint.append([{"key": "a", "prompt_sha": "old", "status": "completed", "response": "old answer"}])
    saved = checkpoint.saved()
    assert saved.line("a", "new") is None  # read back and compared in full: asked again
    saved.close()


# -- the ordered output ------------------------------------------------------------------------------------


def row(number: int) -> Row:
    return Row(number, f"k{number}", {"n": number})


def done(number: int, status: str = "completed") -> RowOutcome:
    return RowOutcome(f"k{number}", "sha", status, f"answer {number}", 2, None)  # type: ignore[arg-type]


def test_lines_are_written_in_input_order_as_soon_as_the_rows_before_them_are_answered(tmp_path: Path) -> None:
    output = OrderedOutput(JsonLinesFile(tmp_path / "out.jsonl"), limit=3, row_numbers=False)
    written: list[int] = []
    output.file.write_row = lambda line: written.append(line["n"])  # type: ignore[method-assign]

    async def scenario() -> None:
        for number in range(3):
            output.add(row(number))
        waiting = asyncio.ensure_future(output.room(lambda: False))
        output.settle(done(2))
        output.settle(done(1))
        await asyncio.sleep(0)
        assert written == []  # row 0 holds the others back ...
        assert not waiting.done()  # ... and a fourth row too
        output.settle(done(0, "failed"))
        await asyncio.wait_for(waiting, 1)
        output.add(row(3), done(3))
        output.add(row(4))
        output.give_up("stopped")

    asyncio.run(scenario())
    assert written == [0, 1, 2, 3, 4]
    assert output.counts == {"completed": 3, "failed": 1, "not_attempted": 1}
    assert output.keys() == (["k1", "k2", "k3"], [{"key": "k0", "error": None}])
    output.close()


def test_a_stopped_batch_wakes_a_source_waiting_for_room(tmp_path: Path) -> None:
    output = OrderedOutput(JsonLinesFile(tmp_path / "out.jsonl"), limit=1, row_numbers=True)
    stopped = False

    async def scenario() -> None:
        nonlocal stopped
        output.add(row(0))
        waiting = asyncio.ensure_future(output.room(lambda: stopped))
        await asyncio.sleep(0)
        stopped = True
        output.wake()
        await asyncio.wait_for(waiting, 1)

    asyncio.run(scenario())
    output.file.abandon()
    output.close()


# -- files published whole ---------------------------------------------------------------------------------


def test_an_abandoned_file_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("yesterday\n")
    whole = WholeFile(target)
    whole.write("half of today")
    assert target.read_text() == "yesterday\n"
    whole.abandon()
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    assert target.read_text() == "yesterday\n"
    whole = WholeFile(target)
    whole.write("today\n")
    whole.publish()
    assert target.read_text() == "today\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_an_object_store_sees_nothing_until_published() -> None:
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    attach("memory", fs=fsspec.filesystem("memory"))  # a store that is not the local disk
    target = ObjectStoragePath("memory://raia-batch-test/out/answers.jsonl")
    whole = WholeFile(target)
    whole.write("a\n")
    whole.write("b\n")
    assert not target.exists()
    whole.publish()
    assert target.read_text() == "a\nb\n"
    abandoned = WholeFile(ObjectStoragePath("memory://raia-batch-test/out/other.jsonl"))
    abandoned.write("x\n")
    abandoned.abandon()
    assert not ObjectStoragePath("memory://raia-batch-test/out/other.jsonl").exists()


def test_leftovers_of_a_killed_writer_are_removed_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out[1].jsonl"
    (tmp_path / f".{target.name}.0123abcd.tmp").write_text("half")
    (tmp_path / ".other.jsonl.0123abcd.tmp").write_text("someone else's")
    write_whole(target, "whole\n")
    assert remove_leftovers(target) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.jsonl.0123abcd.tmp", "out[1].jsonl"]
