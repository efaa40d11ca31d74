"""The README's demo keeps what it made in a folder it names, and explains what looks like one DAG undoing another.

Runs ``scripts/demo.sh`` for real (emulator, ``airflow dags test`` on SQLite) with three of its DAGs
(``RAIA_DEMO_DAGS``), this interpreter's virtualenv and a scratch output folder; the whole demo runs as the CI's
``demo`` stage. Like the other script checks, on Airflow 3.3 only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.ci.test_ci_gates import REPO, VENV, environment
from tests.e2e.required import E2E_RUNS_HERE

pytestmark = [
    pytest.mark.airflow_cli,
    pytest.mark.skipif(not E2E_RUNS_HERE, reason="the demo script does not depend on Airflow: checked on 3.3 only"),
]

DAGS = "example_raia_knowledge_refresh nightly_knowledge_refresh example_raia_batch_prompt"


def run_demo(out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/demo.sh`` with this virtualenv, writing into ``out``."""
    return subprocess.run(
        [str(REPO / "scripts" / "demo.sh")],
        cwd=REPO,
        env=environment(ci=False, RAIA_STAGES="demo", RAIA_REUSE_VENV=str(VENV), RAIA_DEMO_OUTPUT=str(out), **env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("demo") / "kept"
    done = run_demo(out, RAIA_DEMO_DAGS=DAGS)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return out, done.stdout.splitlines()


def test_the_demo_names_the_folder_it_kept_and_everything_it_printed_is_there(demo: tuple[Path, list[str]]) -> None:
    out, lines = demo
    kept = lines.index(f"Demo outputs kept in {out}:")
    listed = [line.strip() for line in lines[kept + 1 :]]
    assert "emulator.log" in listed
    assert {f"logs/{dag}.log" for dag in DAGS.split()} <= set(listed)
    assert all((out / name).is_file() for name in listed)
    printed_paths = [path for line in lines[:kept] for path in re.findall(r"(/\S+\.jsonl)", line)]
    assert printed_paths, lines
    for path in printed_paths:
        assert path.startswith(f"{out}/")
        assert Path(path).is_file()  # still there after the demo ended
        assert Path(path).relative_to(out).as_posix() in listed


def test_the_demo_says_why_the_nightly_sync_replaced_the_upload_examples_files(demo: tuple[Path, list[str]]) -> None:
    _, lines = demo
    uploaded = next(i for i, line in enumerate(lines) if "DAG example_raia_knowledge_refresh succeeded" in line)
    synced = next(i for i, line in enumerate(lines) if "DAG nightly_knowledge_refresh succeeded" in line)
    assert synced == uploaded + 1
    assert re.search(r"Knowledge synced: (\d+) uploaded .* (\1) deleted, 0 kept", lines[synced]), lines[synced]
    why = " ".join(line.strip() for line in lines[synced + 1 : synced + 4])
    assert why.startswith("(the same agent, the same documents: the sync owns what it mirrors.")
    assert "not in its manifest" in why


def test_the_demo_refuses_to_empty_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    done = run_demo(tmp_path)
    assert done.returncode != 0
    assert "holds files the demo did not write" in done.stdout
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
