"""P6: a batch's peak memory does not grow with its rows: 1,000,000 rows peak at ≤ 300 MiB and ≤ 1.5x 10,000.

How: the emulator runs in its own process with no latency and no rate limit, so the batch goes as fast as the
client can and nothing but the client's own bookkeeping can grow. For each size, a CSV of 190-byte rows is
written, then ``RaiaBatchPromptOperator`` (``prompt_mode="sync"``, ``max_concurrency=64``, ``key_field`` set,
so the duplicate-key check runs too) runs over it in a fresh child process; the figure is that process's peak
RSS (``ru_maxrss``), imports included, so the sizes compare like for like. The child also reports its RSS
after the imports (the floor no batch can go under) and the CPU time ``execute`` took, divided by the rows:
the client's cost per row. The manifest's counts are checked (every row completed, none reused); correctness
at scale is tested, not benchmarked (``tests/integration/test_batch_kill_at_scale_emulator.py``). While a child
runs, the emulator's request log is cleared every few seconds, so the emulator's own growth does not slow it.

Run: ``.venv-airflow-3.3/bin/python benchmarks/p6_batch_memory.py [--quick] [--json PATH] [--sizes 10000,...]``
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _harness import Figure, Report, RunningEmulator, cpu_seconds, current_rss_mib, emulator, parser, peak_rss_mib

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
PEAK_BOUND_MIB = 300.0
RATIO_BOUND = 1.5
CONCURRENCY = 64
ROW_BYTES = 190
TEMPLATE = "Write a one-line summary of {{ name }} from {{ city }}: {{ note }}"


def write_input(path: Path, rows: int) -> None:
    """A CSV of ``rows`` rows of ``ROW_BYTES`` bytes each (newline included), written in blocks.

    :param path: the file to write.
    :param rows: how many rows.
    """
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,name,city,note\n")
        block: list[str] = []
        for n in range(rows):
            head = f"row-{n:07d},Customer {n},City {n % 977},"
            block.append(head + "x" * (ROW_BYTES - len(head) - 1) + "\n")
            if len(block) == 10_000:
                handle.write("".join(block))
                block.clear()
        handle.write("".join(block))


def child(input_path: str, output_path: str) -> None:
    """In a fresh process: run the batch once and print what it cost, as one JSON line.

    :param input_path: the CSV.
    :param output_path: the JSONL to write.
    """
    from raia_provider.operators.batch import RaiaBatchPromptOperator

    class TaskInstance:
        def xcom_push(self, key: str, value: Any) -> None:
            raise AssertionError(f"the batch failed: {key}={value}")

    operator = RaiaBatchPromptOperator(
        task_id="p6",
        input_path=input_path,
        key_field="id",
        prompt_template=TEMPLATE,
        output_path=output_path,
        max_concurrency=CONCURRENCY,
    )
    floor = current_rss_mib()
    cpu, started = cpu_seconds(), time.perf_counter()
    manifest = operator.execute({"ti": TaskInstance()})  # type: ignore[typeddict-item]
    result = {
        "manifest": manifest,
        "peak_mib": peak_rss_mib(),
        "floor_mib": floor,
        "cpu_seconds": cpu_seconds() - cpu,
        "elapsed": time.perf_counter() - started,
    }
    print("RESULT " + json.dumps(result), flush=True)


def measure(running: RunningEmulator, folder: Path, rows: int) -> dict[str, Any]:
    """Write the input for ``rows`` rows, run the batch over it in a child process, return its figures.

    :param running: the emulator.
    :param folder: scratch space.
    :param rows: how many rows.
    """
    from raia_provider.testing.emulator.client import EmulatorClient

    source, output = folder / f"rows-{rows}.csv", folder / f"answers-{rows}.jsonl"
    write_input(source, rows)
    control = EmulatorClient(running.origin)
    control.clear_requests()
    finished = threading.Event()

    def keep_the_log_short() -> None:
        while not finished.wait(5):
            try:
                control.clear_requests()
            except OSError:  # an idle keep-alive connection the emulator closed; the next round reconnects
                continue

    cleaner = threading.Thread(target=keep_the_log_short, daemon=True)
    cleaner.start()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(source), str(output)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        finished.set()
        cleaner.join()
        control.close()
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        raise SystemExit(f"the {rows}-row batch failed:\n{(done.stdout + done.stderr)[-3000:]}")
    result: dict[str, Any] = json.loads(results[-1].removeprefix("RESULT "))
    manifest = result["manifest"]
    if (manifest["rows"], manifest["completed"], manifest["reused"]) != (rows, rows, 0):
        raise SystemExit(f"the {rows}-row batch did not answer every row once: {manifest}")
    source.unlink()
    output.unlink()
    return result


def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--quick", action="store_true", help="10,000 and 100,000 rows only")
    arguments.add_argument("--sizes", help="comma-separated row counts instead (the first is the baseline)")
    arguments.add_argument("--child", nargs=2, metavar=("INPUT", "OUTPUT"), help=argparse_hidden())
    options = arguments.parse_args()
    if options.child:
        child(*options.child)
        return
    sizes = [int(size) for size in options.sizes.split(",")] if options.sizes else None
    sizes = sizes or list(QUICK_SIZES if options.quick else SIZES)
    report = Report(options.json)
    report.note(
        f"{', '.join(f'{size:,}' for size in sizes)} rows of {ROW_BYTES} bytes, sync prompts, "
        f"max_concurrency={CONCURRENCY}, emulator without latency or rate limit (own process)"
    )
    folder = Path(tempfile.mkdtemp(prefix="raia-bench-p6-"))
    peaks: dict[int, float] = {}
    with emulator() as running:
        running.use_as_default_connection()
        for rows in sizes:
            result = measure(running, folder, rows)
            peaks[rows] = result["peak_mib"]
            is_largest = rows == max(sizes)
            report.add(
                Figure(
                    "P6",
                    f"batch peak RSS at {rows:,} rows",
                    result["peak_mib"],
                    "MiB",
                    PEAK_BOUND_MIB if is_largest and rows >= 1_000_000 else None,
                    detail=f"{result['floor_mib']:.0f} MiB after imports; {result['elapsed']:.0f} s, "
                    f"{rows / result['elapsed']:,.0f} rows/s",
                )
            )
            report.add(
                Figure(
                    "P6",
                    f"client CPU per row at {rows:,} rows",
                    result["cpu_seconds"] / rows * 1e6,
                    "µs",
                    detail=f"{result['cpu_seconds']:.1f} s of CPU in execute",
                )
            )
    baseline, largest = sizes[0], max(sizes)
    if largest != baseline:
        report.add(
            Figure(
                "P6",
                f"peak RSS at {largest:,} rows / at {baseline:,}",
                peaks[largest] / peaks[baseline],
                "x",
                RATIO_BOUND,
                detail=f"{peaks[largest]:.0f} / {peaks[baseline]:.0f} MiB",
            )
        )
    report.write()


def argparse_hidden() -> str:
    """Help text that hides an option from ``--help`` (the child mode is internal)."""
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
