"""Run the benchmark suite: every ``benchmarks/p*.py`` script, then one summary table of all figures.

How: the scripts run one after the other (sorted by name), each as a subprocess of this interpreter with
``--json`` pointing at a temporary file; their output streams through as it comes. Each script is
runnable alone and takes ``--json PATH``; a script may also accept ``--quick`` for a smaller, faster run
(smaller files, fewer repetitions): ``--quick`` here passes it on to every script whose ``--help`` lists
it. The summary shows each figure with its goal and whether it was met. A missed goal is reported, not
an error: the exit status is non-zero only if a script crashed (non-zero exit, or no figures written).

Run: ``./scripts/bench.sh [--only P3,P5] [--quick] [--json-out PATH]``
(or ``.venv-airflow-3.3/bin/python benchmarks/run.py ...``)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from _harness import Figure

HERE = Path(__file__).resolve().parent
SCRIPT_NAME = re.compile(r"^p(\d+)([a-z]?)_\w+\.py$")


def benchmark_id(script: Path) -> str:
    """``P3`` for ``p3_import_cost.py``, ``P2b`` for ``p2b_rate_budget.py``.

    :param script: a benchmark script.
    """
    match = SCRIPT_NAME.match(script.name)
    assert match is not None
    return f"P{int(match.group(1))}{match.group(2)}"


def discover() -> list[Path]:
    """Every benchmark script, sorted by benchmark number, then name."""
    scripts = [path for path in HERE.glob("p*.py") if SCRIPT_NAME.match(path.name)]
    return sorted(scripts, key=lambda path: (int(re.sub(r"\D", "", benchmark_id(path))), path.name))


def accepts_quick(script: Path) -> bool:
    """Whether ``script --help`` lists a ``--quick`` option.

    :param script: a benchmark script.
    """
    completed = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=False, timeout=120
    )
    return completed.returncode == 0 and "--quick" in completed.stdout


def run_script(script: Path, quick: bool) -> tuple[list[Figure], str | None]:
    """Run one benchmark script, streaming its output; return its figures and a failure, if any.

    :param script: the benchmark script.
    :param quick: pass ``--quick`` if the script accepts it.
    """
    with tempfile.TemporaryDirectory(prefix="raia-bench-") as directory:
        json_path = Path(directory) / "figures.json"
        command = [sys.executable, str(script), "--json", str(json_path)]
        if quick and accepts_quick(script):
            command.append("--quick")
        print(f"\n== {benchmark_id(script)}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        status = subprocess.run(command, check=False).returncode
        print(f"== {benchmark_id(script)} took {time.perf_counter() - started:.0f} s", flush=True)
        if status != 0:
            return [], f"exited with status {status}"
        if not json_path.exists():
            return [], "wrote no figures"
        figures = [Figure(**item) for item in json.loads(json_path.read_text())]
    return figures, None


def table(figures: list[Figure]) -> str:
    """The figures as an aligned text table: benchmark, figure, value, unit, goal, verdict.

    :param figures: every figure of the run.
    """
    rows = [("benchmark", "figure", "value", "unit", "goal", "verdict")]
    for figure in figures:
        if figure.bound is None:
            goal, verdict = "-", "-"
        else:
            goal = f"{'<=' if figure.goal == 'max' else '>='} {figure.bound:g}"
            verdict = "met" if figure.met else "MISSED"
        rows.append((figure.benchmark, figure.name, f"{figure.value:.3g}", figure.unit, goal, verdict))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def arguments(ids: list[str]) -> argparse.Namespace:
    """Parse the command line.

    :param ids: the benchmark ids found, for the help text and for checking ``--only``.
    """
    result = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    result.add_argument("--only", help=f"comma-separated benchmark ids to run (found: {','.join(ids)})")
    result.add_argument("--quick", action="store_true", help="pass --quick to every script that accepts it")
    result.add_argument("--json-out", help="also write every figure (and crashed scripts) to this JSON file")
    args = result.parse_args()
    if args.only:
        args.only = [item.strip().upper() for item in args.only.split(",") if item.strip()]
        unknown = sorted(set(args.only) - {item.upper() for item in ids})
        if unknown:
            result.error(f"no benchmark script for {', '.join(unknown)} (found: {', '.join(ids)})")
    return args


def main() -> int:
    """Run the selected scripts, print the summary; return 1 if a script crashed, else 0."""
    scripts = discover()
    args = arguments([benchmark_id(script) for script in scripts])
    selected = [script for script in scripts if not args.only or benchmark_id(script).upper() in args.only]
    figures: list[Figure] = []
    crashed: dict[str, str] = {}
    started = time.perf_counter()
    for script in selected:
        found, failure = run_script(script, args.quick)
        figures += found
        if failure:
            crashed[script.name] = failure
    print(f"\n== summary ({len(selected)} scripts, {time.perf_counter() - started:.0f} s)\n", flush=True)
    print(table(figures) if figures else "(no figures)")
    missed = [figure for figure in figures if figure.met is False]
    print(f"\n{len(figures)} figures; {len(missed)} goals missed.")
    for name, failure in crashed.items():
        print(f"CRASHED: {name} {failure}")
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps({"figures": [asdict(figure) for figure in figures], "crashed": crashed}, indent=2)
        )
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
