"""The benchmark command works on a fresh clone: every benchmark runs (``--quick``) and reports its figures.

Timings are not asserted here (a test is no place for them: the benchmarks print them against their
goals); what is asserted is that each benchmark ran to the end and that the batch lost and repeated nothing.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.airflow_cli,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        Version(__import__("airflow").__version__) < Version("3.3"),
        reason="the benchmark suite runs on the Airflow that ./scripts/bench.sh installs (3.3)",
    ),
]


def test_every_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    # As a user runs it: not in the test suite's Airflow unit-test mode.
    env = {name: value for name, value in os.environ.items() if name != "AIRFLOW__CORE__UNIT_TEST_MODE"}
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--json-out", str(out)],
        capture_output=True,
        text=True,
        timeout=840,
        cwd=REPO,
        env=env,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    result = json.loads(out.read_text())
    assert result["crashed"] == {}
    figures = result["figures"]
    assert {figure["benchmark"] for figure in figures} == {"P1", "P2", "P2b", "P3", "P4", "P5", "P6", "P7", "P8"}
    by_name = {figure["name"]: figure for figure in figures if figure["benchmark"] == "P1"}
    assert by_name["batch rows lost"]["value"] == 0
    assert by_name["batch rows duplicated"]["value"] == 0
    files = {figure["name"]: figure for figure in figures if figure["benchmark"] == "P8"}
    for name in ("rows lost", "files uploaded twice", "files whose bytes did not arrive as written"):
        assert files[name]["value"] == 0, name
    assert files["requests that took the key to the storage host"]["value"] == 0
    budget = {figure["name"]: figure for figure in figures if figure["benchmark"] == "P2b"}
    assert budget["triggers with exactly one success event"]["value"] == 100  # every trigger yields one event
    assert all(math.isfinite(figure["value"]) for figure in figures)
    # Times and ratios are positive; a memory *difference* may be negative (the collector freed more than it took).
    assert all(figure["value"] > 0 for figure in figures if figure["unit"] in ("s", "x"))
    assert "P1 batch (sync prompts) time / floor" in done.stdout  # the figures are printed, not only written
