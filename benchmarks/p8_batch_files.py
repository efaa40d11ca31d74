"""P8: a batch attaching one 200 KiB file per row stays within 1.15x the rate-limit floor, uploading nothing twice.

How: the emulator runs in its own process with 200 ms of latency on every raia request and a rate limit of
50 requests/s per agent (token bucket, burst 50); its signed upload URLs point at its storage origin on
another loopback address (127.0.0.2), which has neither. 500 files of 200 KiB (random bytes) are written, and
``RaiaBatchPromptOperator`` (``file_field``, ``prompt_mode="sync"``, ``max_concurrency=32``,
``requests_per_second=50``) runs over a CSV naming them, in a fresh child process. Each row costs two raia
requests (``POST /prompts/upload-url``, ``POST /prompts``); the PUT goes to the storage host. The floor is the
raia requests (the agent-profile read included) divided by the rate limit: 1,001 / 50 = 20 s. Measured: the
wall time of ``execute`` against the floor; the child's peak RSS growth (peak ``ru_maxrss`` after minus RSS
before ``execute``); lost rows (no ``completed`` line); files uploaded twice (an upload URL issued twice for
one file name, or more PUTs than files) and bytes that did not arrive as written (SHA-256 per file); and
whether the key ever reached the storage host (the emulator records such a request).

Run: ``.venv-airflow-3.3/bin/python benchmarks/p8_batch_files.py [--quick] [--json PATH]``
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _harness import Figure, Report, current_rss_mib, emulator, parser, peak_rss_mib

RATE_LIMIT = 50.0
LATENCY = 0.2
RATIO_BOUND = 1.15
RSS_BOUND_MIB = 64.0
FILE_BYTES = 200 * 1024
STORAGE_HOST = "127.0.0.2"


def write_inputs(folder: Path, rows: int) -> tuple[Path, dict[str, str]]:
    """``rows`` files of ``FILE_BYTES`` random bytes, and a CSV naming them; returns the CSV and each file's
    SHA-256 by name.

    :param folder: where to write them.
    :param rows: how many.
    """
    documents = folder / "documents"
    documents.mkdir()
    digests = {}
    lines = ["doc_id,path"]
    for n in range(rows):
        path = documents / f"doc-{n:04d}.bin"
        data = os.urandom(FILE_BYTES)
        path.write_bytes(data)
        digests[path.name] = hashlib.sha256(data).hexdigest()
        lines.append(f"doc-{n:04d},{path}")
    table = folder / "documents.csv"
    table.write_text("\n".join(lines) + "\n")
    return table, digests


def child(input_path: str, output_path: str) -> None:
    """In a fresh process: run the batch once, print its manifest, wall time and RSS growth as one JSON line.

    :param input_path: the CSV.
    :param output_path: the JSONL to write.
    """
    from raia_provider.operators.batch import RaiaBatchPromptOperator

    class TaskInstance:
        def xcom_push(self, key: str, value: Any) -> None:
            raise AssertionError(f"the batch failed: {key}={value}")

    operator = RaiaBatchPromptOperator(
        task_id="p8",
        input_path=input_path,
        key_field="doc_id",
        file_field="path",
        prompt_template="Summarise the attached document {{ doc_id }}",
        output_path=output_path,
        max_concurrency=32,
        requests_per_second=RATE_LIMIT,
    )
    before = current_rss_mib()
    started = time.perf_counter()
    manifest = operator.execute({"ti": TaskInstance()})  # type: ignore[typeddict-item]
    elapsed = time.perf_counter() - started
    print("RESULT " + json.dumps({"manifest": manifest, "elapsed": elapsed, "growth": peak_rss_mib() - before}))


def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--rows", type=int, default=500, help="rows, one file each (500)")
    arguments.add_argument("--quick", action="store_true", help="150 rows")
    arguments.add_argument("--child", nargs=2, metavar=("INPUT", "OUTPUT"), help=argparse_suppress())
    options = arguments.parse_args()
    if options.child:
        child(*options.child)
        return
    rows = 150 if options.quick else options.rows
    report = Report(options.json)
    folder = Path(tempfile.mkdtemp(prefix="raia-bench-files-"))
    table, digests = write_inputs(folder, rows)
    raia_requests = 2 * rows + 1
    floor = raia_requests / RATE_LIMIT
    report.note(
        f"{rows} rows with one {FILE_BYTES // 1024} KiB file each, emulator latency {LATENCY * 1000:.0f} ms, rate "
        f"limit {RATE_LIMIT:g} requests/s: {raia_requests} raia requests, floor {floor:.1f} s"
    )
    options_ = ("--latency", str(LATENCY), "--rate-limit", str(RATE_LIMIT), "--storage-host", STORAGE_HOST)
    with emulator(*options_) as running:
        running.use_as_default_connection()
        output = folder / "answers.jsonl"
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(table), str(output)],
            capture_output=True,
            text=True,
            timeout=1800,
            env=os.environ,
        )
        results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not results:
            raise SystemExit(f"the batch failed:\n{(done.stdout + done.stderr)[-3000:]}")
        result = json.loads(results[-1].removeprefix("RESULT "))
        from raia_provider.testing.emulator.client import EmulatorClient

        with EmulatorClient(running.origin) as control:
            uploads = control.uploads()
            seen = control.requests()
            leaks = control.key_leaks()
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    issued = Counter(upload.file_name for upload in uploads)
    arrived = {upload.file_name: upload.sha256 for upload in uploads if upload.size is not None}
    elapsed = result["elapsed"]
    report.add(
        Figure(
            "P8",
            "batch with a file per row: time / floor",
            elapsed / floor,
            "x",
            RATIO_BOUND,
            detail=f"{elapsed:.1f} s for {rows} rows, floor {floor:.1f} s ({len(seen)} raia requests seen)",
        )
    )
    report.add(
        Figure(
            "P8",
            "peak RSS growth of the batch",
            result["growth"],
            "MiB",
            RSS_BOUND_MIB,
            detail=f"{rows} x {FILE_BYTES // 1024} KiB = {rows * FILE_BYTES / 2**20:.0f} MiB streamed",
        )
    )
    report.add(Figure("P8", "rows lost", sum(1 for line in lines if line["status"] != "completed"), "rows", 0))
    twice = sum(count - 1 for count in issued.values() if count > 1)
    report.add(Figure("P8", "files uploaded twice", twice, "files", 0))
    wrong = sum(1 for name, digest in digests.items() if arrived.get(name) != digest)
    report.add(Figure("P8", "files whose bytes did not arrive as written", wrong, "files", 0))
    report.add(Figure("P8", "requests that took the key to the storage host", len(leaks), "requests", 0))
    report.note(f"manifest {result['manifest']}")
    report.write()


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
