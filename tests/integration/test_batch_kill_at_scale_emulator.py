"""A 100,000-row batch killed with SIGKILL mid-run, then rerun: no row lost, none repeated, nothing re-asked.

The batch streams its input, output and checkpoint, so what a kill must not break is the bookkeeping that
replaced holding everything in memory: the compact index of checkpointed answers, the output written in
input order through a bounded window, and the temporary output file a kill leaves behind. The first run is
a real process, killed once its checkpoint holds half the rows (an event, read from the files it writes),
and so is the rerun. The emulator's request log of both runs is the witness.
"""

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

from raia_provider.testing import RaiaEmulator

# Long for a test (every row is one real request over loopback, 200,000 rows read and checked twice).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROWS = 100_000
KILL_AT = ROWS // 2
TEMPLATE = "Describe {{ city }} for row {{ row_number }}"

# Both runs are processes of their own, as a worker's are; the emulator (a thread of this process) then
# does not share an interpreter with the batch.
_CHILD = textwrap.dedent(
    """
    import json, sys
    from raia_provider.operators.batch import RaiaBatchPromptOperator
    from tests.task_doubles import FakeTI

    manifest = RaiaBatchPromptOperator(
        task_id="enrich", input_path=sys.argv[1], key_field="id", prompt_template=sys.argv[3],
        output_path=sys.argv[2], max_concurrency=32, checkpoint_interval=0.2,
    ).execute({"ti": FakeTI()})
    print("MANIFEST " + json.dumps(manifest))
    """
)


def start_batch(source: Path, out: Path, **options: Any) -> subprocess.Popen[str]:
    """Start the batch in a process of its own.

    :param source: the input CSV.
    :param out: the output file.
    :param options: more ``Popen`` options.
    """
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(source), str(out), TEMPLATE],
        cwd=Path(__file__).resolve().parents[2],
        env=os.environ.copy(),
        text=True,
        **options,
    )


def checkpointed_lines(checkpoint: Path, counted: dict[Path, int]) -> int:
    """Lines in the checkpoint's parts; each part is counted once (a part appears whole, by a rename).

    :param checkpoint: the checkpoint folder.
    :param counted: the parts counted so far, updated.
    """
    for part in checkpoint.glob("part-*.jsonl"):
        if part not in counted:
            counted[part] = part.read_bytes().count(b"\n")
    return sum(counted.values())


def prompts_asked(emulator: RaiaEmulator, since: int = 0) -> list[str]:
    """The prompts raia answered, from the request log entry ``since`` on.

    :param emulator: the emulator.
    :param since: the first ``seq`` to count.
    """
    return [
        r.body["prompt"]
        for r in emulator.requests(method="POST", path="/external/prompts")
        if r.status == 200 and r.seq >= since
    ]


def test_a_100k_row_batch_killed_mid_run_loses_and_repeats_nothing(emulator: RaiaEmulator, tmp_path: Path) -> None:
    source = tmp_path / "cities.csv"
    source.write_text("id,city\n" + "".join(f"r{n},City {n}\n" for n in range(ROWS)))
    out = tmp_path / "out" / "answers.jsonl"
    checkpoint = out.parent / (out.name + ".checkpoint")

    child = start_batch(source, out, stdout=subprocess.DEVNULL)
    counted: dict[Path, int] = {}
    deadline = time.monotonic() + 400
    try:
        while checkpointed_lines(checkpoint, counted) < KILL_AT:
            assert child.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, f"only {sum(counted.values())} rows checkpointed"
            time.sleep(0.05)  # polling for files the child writes, not waiting for a race to settle
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not out.exists(), "a killed batch publishes no output"

    parts = sorted(checkpoint.glob("part-*.jsonl"))
    answered = {
        line["key"]
        for part in parts
        for line in map(json.loads, part.read_text().splitlines())
        if line["status"] == "completed"
    }
    assert KILL_AT <= len(answered) < ROWS, "killed mid-run, with half the rows checkpointed"
    assert max(Counter(prompts_asked(emulator)).values()) == 1  # no prompt asked twice within the killed run
    rerun_from = len(emulator.requests()) + 1

    rerun = start_batch(source, out, stdout=subprocess.PIPE)
    printed, _ = rerun.communicate(timeout=400)
    assert rerun.returncode == 0
    manifest = json.loads(printed.rsplit("MANIFEST ", 1)[1])

    # Nothing already answered was asked again; every other row was asked exactly once.
    asked_again = Counter("r" + prompt.rsplit(" ", 1)[1] for prompt in prompts_asked(emulator, since=rerun_from))
    assert not answered & set(asked_again)
    assert max(asked_again.values()) == 1
    assert len(asked_again) == ROWS - len(answered)
    assert manifest["reused"] == len(answered)
    assert (manifest["rows"], manifest["completed"], manifest["failed"], manifest["not_attempted"]) == (
        ROWS,
        ROWS,
        0,
        0,
    )

    # Zero lost, zero duplicates: every row once, in input order, with the answer to its own prompt.
    with out.open(encoding="utf-8") as lines:
        written = [json.loads(text) for text in lines]
    duplicates = sum(count - 1 for count in Counter(line["id"] for line in written).values())
    lost = ROWS - sum(
        1
        for n, line in enumerate(written)
        if line["status"] == "completed" and line["response"].endswith(f"answer to: Describe City {n} for row {n}")
    )
    assert (lost, duplicates) == (0, 0)
    assert [line["id"] for line in written] == [f"r{n}" for n in range(ROWS)]
    # The checkpoint is gone, and so is the temporary output file the killed run left.
    assert sorted(path.name for path in out.parent.iterdir()) == ["answers.jsonl"]
