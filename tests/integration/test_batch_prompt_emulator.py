"""RaiaBatchPromptOperator against the emulator over real sockets: answers, resume, 429 storms, faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from raia_provider.engines.batch_checkpoint import Checkpoint
from raia_provider.exceptions import RaiaAuthError, RaiaPartialFailureError
from raia_provider.operators.batch import MANIFEST_XCOM_KEY, MIN_ROWS_HELD, RaiaBatchPromptOperator
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
from tests.integration.conftest import FAST_RETRIES
from tests.task_doubles import FakeTI

pytestmark = pytest.mark.integration

TEMPLATE = "Describe {{ city }} for row {{ row_number }}"


def write_csv(path: Path, rows: int) -> Path:
    path.write_text("id,city\n" + "".join(f"r{n},City {n}\n" for n in range(rows)))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def asked_prompts(emulator: RaiaEmulator, path: str = "/external/prompts") -> list[str]:
    return [r.body["prompt"] for r in emulator.requests(method="POST", path=path) if r.status == 200]


def batch(tmp_path: Path, **overrides: Any) -> RaiaBatchPromptOperator:
    arguments: dict[str, Any] = {
        "task_id": "enrich",
        "input_path": str(tmp_path / "cities.csv"),
        "key_field": "id",
        "prompt_template": TEMPLATE,
        "output_path": str(tmp_path / "out" / "answers.jsonl"),
        "max_concurrency": 8,
        "checkpoint_interval": 0.2,
        "row_retry_policy": FAST_RETRIES,
        **overrides,
    }
    return RaiaBatchPromptOperator(**arguments)


def test_every_row_is_answered_once_and_the_manifest_counts_match_the_file(
    emulator: RaiaEmulator, tmp_path: Path
) -> None:
    write_csv(tmp_path / "cities.csv", 60)
    ti = FakeTI()
    manifest = batch(tmp_path, requests_per_second=200).execute({"ti": ti})

    lines = read_jsonl(tmp_path / "out" / "answers.jsonl")
    assert [line["id"] for line in lines] == [f"r{n}" for n in range(60)]  # input order, each row once
    for n, line in enumerate(lines):
        assert line["city"] == f"City {n}"
        assert line["status"] == "completed"
        assert line["response"].endswith(f"answer to: Describe City {n} for row {n}")
        assert line["error"] is None
    assert manifest == {
        "output_path": str(tmp_path / "out" / "answers.jsonl"),
        "output_file_format": "jsonl",
        "rows": 60,
        "completed": 60,
        "failed": 0,
        "not_attempted": 0,
        "reused": 0,
        "total_tokens": sum(line["total_tokens"] for line in lines),
        "requests": 60,
        "throttled_pauses": 0,
        "elapsed_seconds": manifest["elapsed_seconds"],
    }
    assert Counter(asked_prompts(emulator)).most_common(1)[0][1] == 1  # no prompt was sent twice
    assert len(asked_prompts(emulator)) == 60
    assert not (tmp_path / "out" / "answers.jsonl.checkpoint").exists()  # discarded once the output is whole
    assert ti.pushed == []  # the manifest is the return value; nothing else goes to XCom


def test_a_429_storm_pauses_the_whole_batch_and_loses_or_repeats_nothing(
    emulator: RaiaEmulator, tmp_path: Path
) -> None:
    # raia allows 20 requests/s with a burst of 4; the batch, told nothing of it, sends 16 at once.
    emulator.configure(rate_limit=20, burst=4)
    write_csv(tmp_path / "cities.csv", 80)
    manifest = batch(tmp_path, max_concurrency=16).execute({"ti": FakeTI()})

    throttled = [r for r in emulator.requests(method="POST", path="/external/prompts") if r.status == 429]
    assert throttled, "the storm did happen"
    assert manifest["completed"] == 80
    assert manifest["requests"] == 80 + len(throttled)
    assert 1 <= manifest["throttled_pauses"] <= len(throttled)
    answered = asked_prompts(emulator)
    assert sorted(answered) == sorted(f"Describe City {n} for row {n}" for n in range(80))  # each exactly once
    lines = read_jsonl(tmp_path / "out" / "answers.jsonl")
    assert {line["status"] for line in lines} == {"completed"}


def test_transient_faults_are_retried_per_row(emulator: RaiaEmulator, tmp_path: Path) -> None:
    emulator.inject_fault(kind="status", status=503, method="POST", path="/external/prompts", count=3)
    emulator.inject_fault(kind="reset", method="POST", path="/external/prompts", count=2)
    write_csv(tmp_path / "cities.csv", 20)
    manifest = batch(tmp_path).execute({"ti": FakeTI()})
    assert (manifest["completed"], manifest["failed"]) == (20, 0)
    assert len(asked_prompts(emulator)) == 20


def test_failed_rows_are_written_with_their_error_and_the_ratio_decides(emulator: RaiaEmulator, tmp_path: Path) -> None:
    records = [{"id": n, "topic": f"{FAIL_MARKER} topic {n}" if n % 5 == 0 else f"topic {n}"} for n in range(20)]
    out = tmp_path / "ok.jsonl"
    manifest = RaiaBatchPromptOperator(
        task_id="b",
        records=records,
        key_field="id",
        prompt_template="{{ topic }}",
        output_path=str(out),
        max_failed_ratio=0.25,
    ).execute({"ti": FakeTI()})
    assert (manifest["completed"], manifest["failed"]) == (16, 4)
    failed = [line for line in read_jsonl(out) if line["status"] == "failed"]
    assert [line["id"] for line in failed] == [0, 5, 10, 15]
    assert all(line["response"] is None and "could not process" in line["error"] for line in failed)

    # The same input with no failure allowed: the output is still written, the task fails, the answers stay.
    strict_out = tmp_path / "strict.jsonl"
    ti = FakeTI()
    strict = RaiaBatchPromptOperator(
        task_id="b", records=records, key_field="id", prompt_template="{{ topic }}", output_path=str(strict_out)
    )
    with pytest.raises(RaiaPartialFailureError, match=r"row 0 \(key '0'\): raia reports|could not process") as caught:
        strict.execute({"ti": ti})
    assert "a retry asks only the rest" in str(caught.value)
    assert ti.xcom[MANIFEST_XCOM_KEY]["failed"] >= 1
    assert (tmp_path / "strict.jsonl.checkpoint").is_dir()


def test_a_refused_key_stops_the_batch_at_once(emulator: RaiaEmulator, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT",
        json.dumps({"conn_type": "raia", "password": "sk-wrong", "host": emulator.base_url}),
    )
    write_csv(tmp_path / "cities.csv", 200)
    with pytest.raises(RaiaAuthError) as caught:
        batch(tmp_path, max_concurrency=4).execute({"ti": FakeTI()})
    assert "sk-wrong" not in str(caught.value)
    assert len(emulator.requests(method="POST")) <= 4  # the in-flight ones, not 200
    assert not (tmp_path / "out" / "answers.jsonl").exists()


def test_async_prompts_poll_through_the_same_gate(emulator: RaiaEmulator, tmp_path: Path) -> None:
    emulator.configure(prompt_delay=0.1)
    write_csv(tmp_path / "cities.csv", 30)
    manifest = batch(tmp_path, prompt_mode="async", poll_interval=0.05).execute({"ti": FakeTI()})
    assert manifest["completed"] == 30
    submitted = asked_prompts(emulator, "/external/prompts/async")
    assert len(submitted) == len(set(submitted)) == 30
    polls = emulator.requests(method="GET", path="/external/prompts/{id}/response-on")
    assert manifest["requests"] == 30 + len(polls)
    assert {line["status"] for line in read_jsonl(tmp_path / "out" / "answers.jsonl")} == {"completed"}


def test_rows_wait_for_a_slow_oldest_row_instead_of_piling_up(emulator: RaiaEmulator, tmp_path: Path) -> None:
    # The output is written in input order as answers arrive, so while row 0 is held the batch starts no row
    # more than MIN_ROWS_HELD ahead of it: what it holds in memory does not grow with the table.
    held = 3.0
    emulator.inject_fault(kind="slow", delay=held, method="POST", path="/external/prompts", count=1)
    write_csv(tmp_path / "cities.csv", 1000)
    manifest = batch(tmp_path, max_concurrency=4).execute({"ti": FakeTI()})

    arrived = emulator.requests(method="POST", path="/external/prompts")
    while_held = [r.body["prompt"] for r in arrived if r.timestamp < arrived[0].timestamp + held]
    assert arrived[0].body["prompt"] == "Describe City 0 for row 0"
    assert len(while_held) > MIN_ROWS_HELD // 2, "the other workers went on while row 0 was held"
    assert max(int(prompt.rsplit(" ", 1)[1]) for prompt in while_held) < MIN_ROWS_HELD
    assert manifest["completed"] == 1000
    assert [line["id"] for line in read_jsonl(tmp_path / "out" / "answers.jsonl")] == [f"r{n}" for n in range(1000)]


# -- resume after a crash: a real process, killed with SIGKILL mid-batch -----------------------------------

_CHILD = textwrap.dedent(
    """
    import sys
    from raia_provider.operators.batch import RaiaBatchPromptOperator
    from tests.task_doubles import FakeTI

    RaiaBatchPromptOperator(
        task_id="enrich", input_path=sys.argv[1], key_field="id", prompt_template=sys.argv[3],
        output_path=sys.argv[2], prompt_mode=sys.argv[4], max_concurrency=2, poll_interval=0.05,
        checkpoint_interval=0.1,
    ).execute({"ti": FakeTI()})
    """
)


def run_until_checkpointed_then_kill(tmp_path: Path, mode: str, at_least: int) -> None:
    out = tmp_path / "out" / "answers.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "cities.csv"), str(out), TEMPLATE, mode],
        cwd=Path(__file__).resolve().parents[2],
        env=os.environ.copy(),
    )
    checkpoint = out.parent / (out.name + ".checkpoint")
    deadline = time.monotonic() + 120
    try:
        while len(list(checkpoint.glob("part-*.jsonl"))) < at_least:
            assert child.poll() is None, "the batch ended before it could be killed; make it slower"
            assert time.monotonic() < deadline, "no checkpoint part appeared"
            time.sleep(0.02)  # polling for a file the child writes, not waiting for a race to settle
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not out.exists()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_rerun_after_a_crash_asks_nothing_that_had_an_answer(
    emulator: RaiaEmulator, tmp_path: Path, mode: str
) -> None:
    emulator.configure(latency=0.05, prompt_delay=0.1)
    write_csv(tmp_path / "cities.csv", 60)
    run_until_checkpointed_then_kill(tmp_path, mode, at_least=2)

    checkpoint = Checkpoint(tmp_path / "out" / "answers.jsonl.checkpoint")
    every_sha = {
        line["key"]: line["prompt_sha"]
        for part in checkpoint._parts()
        for line in map(json.loads, part.read_text().splitlines())
    }
    saved = checkpoint.load(every_sha)
    answered = {key for key, line in saved.items() if line["status"] == "completed"}
    submitted = {key: line["prompt_id"] for key, line in saved.items() if line["status"] == "submitted"}
    assert answered, "the killed run had checkpointed answers"
    emulator.clear_requests()

    manifest = batch(tmp_path, prompt_mode=mode, poll_interval=0.05).execute({"ti": FakeTI()})

    lines = read_jsonl(tmp_path / "out" / "answers.jsonl")
    assert [line["id"] for line in lines] == [f"r{n}" for n in range(60)]  # every row, once, in order
    assert {line["status"] for line in lines} == {"completed"}
    assert manifest["reused"] == len(answered)
    asked_again = asked_prompts(emulator, "/external/prompts" if mode == "sync" else "/external/prompts/async")
    asked_keys = {prompt.split("City ")[1].split(" ")[0] for prompt in asked_again}
    assert not asked_keys & {key.removeprefix("r") for key in answered}  # nothing with an answer was re-asked
    assert len(asked_again) == 60 - len(answered) - len(submitted)  # each missing row asked once
    if mode == "async":
        polled = {
            r.path.split("/")[3] for r in emulator.requests(method="GET", path="/external/prompts/{id}/response-on")
        }
        assert set(submitted.values()) <= polled  # prompts sent before the crash were waited for, not re-sent


def test_object_storage_input_output_and_checkpoint(emulator: RaiaEmulator, tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rows.jsonl").write_text(
        "".join(json.dumps({"id": n, "city": f"C{n}"}) + "\n" for n in range(12))
    )
    manifest = RaiaBatchPromptOperator(
        task_id="b",
        input_path=ObjectStoragePath(f"file://{tmp_path}/in/rows.jsonl"),
        key_field="id",
        prompt_template="About {{ city }}",
        output_path=f"file://{tmp_path}/out/answers.jsonl",  # a URL string is an ObjectStoragePath too
        checkpoint_interval=0.05,
    ).execute({"ti": FakeTI()})
    lines = read_jsonl(tmp_path / "out" / "answers.jsonl")
    assert [line["id"] for line in lines] == list(range(12))
    assert manifest["completed"] == 12
    assert manifest["output_path"].startswith("file://")
    assert not (tmp_path / "out" / "answers.jsonl.checkpoint").exists()
