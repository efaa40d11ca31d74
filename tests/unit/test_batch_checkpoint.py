"""The batch checkpoint: parts written whole, answers reused only for the same prompt, crashes tolerated."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from raia_provider.engines.batch_checkpoint import Checkpoint, CheckpointWriter, checkpoint_for, write_whole


def line(key: str, status: str, sha: str = "s1", **more: object) -> dict[str, object]:
    return {"key": key, "prompt_sha": sha, "status": status, **more}


def test_the_checkpoint_lives_next_to_the_output(tmp_path: Path) -> None:
    assert checkpoint_for(tmp_path / "out" / "a.jsonl") == tmp_path / "out" / "a.jsonl.checkpoint"


def test_answers_are_reused_only_for_the_same_prompt_and_completed_ones_stick(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "cp")
    checkpoint.append([line("a", "completed", response="A"), line("b", "submitted", prompt_id="p1")])
    checkpoint.append([line("b", "completed", response="B"), line("c", "failed", error="x")])
    checkpoint.append([line("a", "failed", error="a later failure does not undo an answer")])
    checkpoint.append([line("d", "completed", sha="old prompt")])
    loaded = checkpoint.load({"a": "s1", "b": "s1", "c": "s1", "d": "new prompt"})
    assert {key: value["status"] for key, value in loaded.items()} == {
        "a": "completed",
        "b": "completed",
        "c": "failed",
    }
    assert loaded["a"]["response"] == "A"


def test_a_failure_after_a_submission_makes_the_row_ask_again(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "cp")
    checkpoint.append([line("a", "submitted", prompt_id="p1")])
    checkpoint.append([line("a", "failed", prompt_id="p1", error="gone")])
    assert checkpoint.load({"a": "s1"})["a"]["status"] == "failed"


def test_a_part_cut_short_by_a_crash_keeps_its_complete_lines(tmp_path: Path) -> None:
    folder = tmp_path / "cp"
    folder.mkdir()
    (folder / "part-00000000000000000001-x.jsonl").write_text(
        json.dumps(line("a", "completed")) + "\n" + '{"key": "b", "prompt_sha": "s1", "sta'
    )
    (folder / ".part-tmp.jsonl.tmp").write_text("garbage of an interrupted write")
    assert set(Checkpoint(folder).load({"a": "s1", "b": "s1"})) == {"a"}


def test_discard_removes_parts_and_the_folder_and_tolerates_absence(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "cp")
    checkpoint.discard()  # nothing there yet
    checkpoint.append([line("a", "completed")])
    checkpoint.append([])  # nothing to write: no empty part
    assert len(list((tmp_path / "cp").iterdir())) == 1
    checkpoint.discard()
    assert not (tmp_path / "cp").exists()


def test_write_whole_replaces_a_local_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.jsonl"
    write_whole(target, "one\n")
    write_whole(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.jsonl"]  # no temporary file left


def test_object_storage_checkpoints_work_through_fsspec(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    checkpoint = Checkpoint(ObjectStoragePath(f"file://{tmp_path}/cp"))
    checkpoint.append([line("a", "completed", response="A")])
    assert checkpoint.load({"a": "s1"})["a"]["response"] == "A"
    write_whole(ObjectStoragePath(f"file://{tmp_path}/out.jsonl"), "x\n")
    assert (tmp_path / "out.jsonl").read_text() == "x\n"
    checkpoint.discard()
    assert not (tmp_path / "cp").exists()


def test_the_writer_flushes_what_arrived_as_one_part(tmp_path: Path) -> None:
    writer = CheckpointWriter(Checkpoint(tmp_path / "cp"), interval=3600)
    writer.add(line("a", "completed"))
    writer.add(line("b", "completed"))
    asyncio.run(writer.flush())
    asyncio.run(writer.flush())  # nothing new: no new part
    parts = list((tmp_path / "cp").iterdir())
    assert len(parts) == 1
    assert [json.loads(text)["key"] for text in parts[0].read_text().splitlines()] == ["a", "b"]
