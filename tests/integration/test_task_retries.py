"""A task retry in a real Airflow (``dag.test()`` retries a failed try): what is done is not done again.

Airflow 3.3's task state store carries what the first try did into the retry; on older Airflow there is
no such store and the retry starts over, as the docs say. Each scenario runs in its own interpreter
(``airflow_retry_scenarios.py``) with a fresh Airflow home and the emulator in-process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

pytestmark = [pytest.mark.integration, pytest.mark.airflow_cli, pytest.mark.timeout(660)]

HAS_TASK_STATE_STORE = Version(__import__("airflow").__version__) >= Version("3.3")


def scenario(name: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "airflow_retry_scenarios.py"), name],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert lines, (done.stdout + done.stderr)[-4000:]
    return json.loads(lines[-1].removeprefix("RESULT "))  # type: ignore[no-any-return]


def test_upload_retry_uploads_only_the_file_that_failed() -> None:
    outcome = scenario("upload")
    assert (outcome["state"], outcome["try_number"]) == ("success", 2), outcome["requests"]
    uploads = [status for method, path, status in outcome["requests"] if path == "/external/agent-files/upload"]
    assert uploads[:5] == [200, 200, 400, 200, 200]  # first try: file 3 of 5 refused, the others stored
    if HAS_TASK_STATE_STORE:
        assert uploads[5:] == [200]  # the retry sent c.md alone
    else:
        assert uploads[5:] == [200] * 5  # no task state store before 3.3: the retry uploads all again


@pytest.mark.skipif(
    not HAS_TASK_STATE_STORE,
    reason="observed on Airflow 3.1.0: dag.test() runs the retry of a task that failed in execute_complete by "
    "resuming it with the old trigger event again (no new execute, no new request), so there is nothing to "
    "re-attach; re-attaching needs 3.3's task state store anyway",
)
def test_prompt_retry_reattaches_to_the_prompt_already_asked() -> None:
    outcome = scenario("prompt")
    assert (outcome["state"], outcome["try_number"]) == ("success", 2), outcome["requests"]
    asked = [path for method, path, _ in outcome["requests"] if method == "POST"]
    polls = [status for method, path, status in outcome["requests"] if path.endswith("/response-on")]
    assert polls[0] == 403  # the first try's trigger was refused, so the try failed
    assert asked == ["/external/prompts/async"]  # asked once: the retry re-attached


def test_batch_retry_asks_only_the_rows_without_an_answer() -> None:
    outcome = scenario("batch")
    assert (outcome["state"], outcome["try_number"]) == ("success", 2), outcome["requests"]
    statuses = [status for _, path, status in outcome["requests"] if path == "/external/prompts"]
    assert statuses[0] == 400  # the first try's first prompt was refused; max_failed_ratio=0 failed the try
    answered = [prompt for prompt, status in zip(outcome["prompts"], statuses, strict=True) if status == 200]
    assert sorted(answered) == sorted(f"Tell me about topic {n}" for n in range(40))  # each row answered once
    assert len(statuses) == 41  # 40 answers and the one refusal: nothing answered was asked again
    assert [line["id"] for line in outcome["output"]] == list(range(40))
    assert {line["status"] for line in outcome["output"]} == {"completed"}
