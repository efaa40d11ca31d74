"""P4: a 1 GiB knowledge-file upload keeps peak RSS growth under 64 MiB and reaches half of curl's throughput.

How: the emulator runs in its own process; a sparse file of ``--size-mib`` MiB (1024 by default, 256 with
``--quick``) is uploaded to ``POST {base}/agent-files/upload`` three ways, one after the other:

* ``RaiaHook.upload_agent_file`` (requests) and ``RaiaHook.aupload_agent_file`` (aiohttp), each in a fresh
  child process of this interpreter, so one mode's RSS peak cannot hide the other's. The child first
  uploads a 1 KiB file with the same hook (imports, connection, validators warmed up), then reads its
  current RSS, times the big upload with ``time.perf_counter`` and reads its peak RSS (``ru_maxrss``).
  RSS growth = peak after - current before: an upper bound of what the upload held. No tracemalloc.
* ``curl`` to the same endpoint with the same form (one ``file`` part), ``Agent-Secret-Key`` header and
  ``Expect:`` cleared (the hook sends no ``Expect: 100-continue`` either); its ``time_total`` is the
  reference. Throughput ratio = curl's time / the hook's time (goal: at least 0.5).

Run: ``.venv-airflow-3.3/bin/python benchmarks/p4_upload.py [--size-mib 1024] [--quick] [--json PATH]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import Figure, MiB, Report, RunningEmulator, current_rss_mib, emulator, parser, peak_rss_mib

RSS_BOUND_MIB = 64.0
RATIO_BOUND = 0.5
UPLOAD_PATH = "/agent-files/upload"  # raia_provider.operations.files.UploadAgentFile.operation
MODES = ("sync", "async")


def sparse_file(path: Path, size: int) -> Path:
    """Create a sparse file of ``size`` bytes (no disk space, no time).

    :param path: where to create it.
    :param size: its size in bytes.
    """
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def child(mode: str, source: Path, warm_up: Path, repetitions: int) -> dict[str, float]:
    """Upload ``source`` with a warmed-up hook in this (fresh) process; return times and memory.

    :param mode: ``sync`` (``upload_agent_file``) or ``async`` (``aupload_agent_file``).
    :param source: the big file.
    :param warm_up: a small file uploaded first with the same hook.
    :param repetitions: how many times the big file is uploaded (the median time is reported).
    """
    from raia_provider._core.file_source import file_part
    from raia_provider._core.retry import RetryPolicy
    from raia_provider.hooks.raia import RaiaHook

    # file_part(path) is what the hook's validator makes of a path (the operators pass it the same way);
    # calling it here keeps mypy satisfied, as the method's signature declares the validated type.

    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=1))  # a failed upload must not be retried silently
    seconds: list[float] = []
    names: list[str] = []
    rss_before = 0.0
    if mode == "sync":
        hook.upload_agent_file(file=file_part(warm_up))
        rss_before = current_rss_mib()
        for _ in range(repetitions):
            started = time.perf_counter()
            names.append(hook.upload_agent_file(file=file_part(source)).file_name)
            seconds.append(time.perf_counter() - started)
        hook.close()
    else:

        async def go() -> float:
            try:
                await hook.aupload_agent_file(file=file_part(warm_up))
                before = current_rss_mib()
                for _ in range(repetitions):
                    started = time.perf_counter()
                    names.append((await hook.aupload_agent_file(file=file_part(source))).file_name)
                    seconds.append(time.perf_counter() - started)
                return before
            finally:
                await hook.aclose()

        rss_before = asyncio.run(go())
    if names != [source.name] * repetitions:
        raise SystemExit(f"unexpected upload answers: {names!r}")
    return {
        "seconds": statistics.median(seconds),
        "fastest": min(seconds),
        "slowest": max(seconds),
        "rss_before_mib": rss_before,
        "peak_after_mib": peak_rss_mib(),
    }


def run_child(mode: str, source: Path, warm_up: Path, repetitions: int) -> dict[str, float]:
    """Run :func:`child` in a fresh process of this interpreter and return what it measured.

    :param mode: ``sync`` or ``async``.
    :param source: the big file.
    :param warm_up: the small file.
    :param repetitions: uploads of the big file.
    """
    command = [sys.executable, __file__, "--child", mode, "--file", str(source), "--warm-up", str(warm_up)]
    command += ["--repetitions", str(repetitions)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"the {mode} upload failed:\n{completed.stdout}{completed.stderr}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def curl_upload(running: RunningEmulator, source: Path) -> float:
    """Upload ``source`` with curl to the same endpoint and form; return curl's ``time_total``.

    :param running: the emulator.
    :param source: the big file.
    """
    curl = shutil.which("curl")
    if curl is None:
        raise SystemExit("curl is not installed: P4 compares against it")
    command = [
        curl,
        "--silent",
        "--show-error",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_code} %{time_total}",
        "--header",
        f"Agent-Secret-Key: {running.key}",
        "--header",
        "Expect:",
        "--form",
        f"file=@{source};type=application/octet-stream",
        running.base_url + UPLOAD_PATH,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    status, _, seconds = completed.stdout.strip().partition(" ")
    if completed.returncode != 0 or not status.startswith("2"):
        raise SystemExit(f"curl upload failed: exit {completed.returncode}, HTTP {status}: {completed.stderr}")
    return float(seconds)


def read_through(path: Path) -> None:
    """Read ``path`` once so every upload reads it from the page cache (the first read of a sparse file
    fills the cache with zero pages, which would slow whichever upload came first).

    :param path: the file.
    """
    with path.open("rb") as handle:
        while handle.read(MiB):
            pass


def arguments() -> argparse.Namespace:
    """Parse the command line (``--json``, ``--quick``, ``--size-mib``, ``--repetitions``; ``--child`` is internal)."""
    result = parser(__doc__)
    result.add_argument("--size-mib", type=int, help="file size in MiB (default 1024; 256 with --quick)")
    result.add_argument("--repetitions", type=int, default=3, help="uploads per client; the median counts (3)")
    result.add_argument("--quick", action="store_true", help="a smaller run: 256 MiB")
    result.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    result.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    result.add_argument("--warm-up", type=Path, help=argparse.SUPPRESS)
    return result.parse_args()


def main() -> None:
    """Run the uploads and report RSS growth and throughput ratios."""
    args = arguments()
    if args.child:
        print(json.dumps(child(args.child, args.file, args.warm_up, args.repetitions)), flush=True)
        return
    size_mib = args.size_mib or (256 if args.quick else 1024)
    report = Report(args.json)
    with tempfile.TemporaryDirectory(prefix="raia-p4-") as directory, emulator() as running:
        running.use_as_default_connection()  # inherited by the child processes
        source = sparse_file(Path(directory) / "archive.bin", size_mib * MiB)
        warm_up = Path(directory) / "warm-up.bin"
        warm_up.write_bytes(b"w" * 1024)
        read_through(source)
        curl_upload(running, source)  # warms the emulator up; not counted
        # curl runs before and after the hook's uploads, so a drift in machine load affects both sides.
        curl_seconds = [curl_upload(running, source) for _ in range(args.repetitions)]
        hook_runs = {mode: run_child(mode, source, warm_up, args.repetitions) for mode in MODES}
        curl_seconds += [curl_upload(running, source) for _ in range(args.repetitions)]
    curl_median = statistics.median(curl_seconds)
    report.note(
        f"{size_mib} MiB sparse file, {args.repetitions} uploads per hook mode, {len(curl_seconds)} with curl "
        f"(median {curl_median:.2f} s = {size_mib / curl_median:.0f} MiB/s; "
        f"{min(curl_seconds):.2f}-{max(curl_seconds):.2f} s)"
    )
    for mode, run in hook_runs.items():
        method = "upload_agent_file" if mode == "sync" else "aupload_agent_file"
        report.note(
            f"{mode:5} {method}: median {run['seconds']:.2f} s = {size_mib / run['seconds']:.0f} MiB/s "
            f"({run['fastest']:.2f}-{run['slowest']:.2f} s); RSS {run['rss_before_mib']:.0f} MiB before, "
            f"peak {run['peak_after_mib']:.0f} MiB"
        )
        report.add(
            Figure(
                "P4",
                f"{size_mib} MiB upload peak RSS growth ({mode})",
                run["peak_after_mib"] - run["rss_before_mib"],
                "MiB",
                bound=RSS_BOUND_MIB,
                detail=f"{method} in a fresh process: peak RSS after - RSS before",
            )
        )
    for mode, run in hook_runs.items():
        report.add(
            Figure(
                "P4",
                f"{size_mib} MiB upload throughput vs curl ({mode})",
                curl_median / run["seconds"],
                "x",
                bound=RATIO_BOUND,
                goal="min",
                detail=f"median times: curl {curl_median:.2f} s / hook {run['seconds']:.2f} s",
            )
        )
    report.write()


if __name__ == "__main__":
    main()
