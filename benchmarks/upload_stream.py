"""Benchmark: a large knowledge-file upload streams with flat memory, sync and async.

Starts the raia emulator in its own process (so this process's memory is the client's alone), uploads a
sparse file of ``--size-mib`` MiB with ``RaiaHook.upload_agent_file`` and ``aupload_agent_file``, and prints
the time, throughput, peak Python allocations and peak RSS growth against the bound (64 MiB).

Run: ``.venv-airflow-3.3/bin/python benchmarks/upload_stream.py --size-mib 200``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

MiB = 1024 * 1024
RSS_BOUND_MIB = 64


def start_emulator(key: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "raia_provider.testing", "--port", "0", "--key", key], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    match = re.search(r"(http://\S+)", process.stdout.readline())
    if not match:
        process.kill()
        raise SystemExit("the emulator did not start")
    return process, match.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=200)
    size = parser.parse_args().size_mib * MiB
    process, base_url = start_emulator("bench-key")
    os.environ["AIRFLOW_CONN_RAIA_DEFAULT"] = json.dumps(
        {"conn_type": "raia", "password": "bench-key", "host": base_url}
    )
    from raia_provider.hooks.raia import RaiaHook

    source = Path(tempfile.mkdtemp()) / "archive.bin"
    with source.open("wb") as handle:
        handle.truncate(size)  # sparse: costs no disk and no time to create
    try:
        for mode in ("sync", "async"):
            hook = RaiaHook()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            tracemalloc.start()
            started = time.perf_counter()
            if mode == "sync":
                hook.upload_agent_file(file=source)
            else:

                async def upload(hook: RaiaHook = hook) -> None:
                    try:
                        await hook.aupload_agent_file(file=source)
                    finally:
                        await hook.aclose()

                asyncio.run(upload())
            elapsed = time.perf_counter() - started
            _, python_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
            print(
                f"{mode:5} {size // MiB} MiB in {elapsed:.2f} s ({size / MiB / elapsed:.0f} MiB/s, under tracemalloc); "
                f"peak Python allocations {python_peak / MiB:.1f} MiB; peak RSS growth {rss_growth / MiB:.1f} MiB "
                f"= {rss_growth / MiB / RSS_BOUND_MIB:.2f} x the {RSS_BOUND_MIB} MiB bound"
            )
    finally:
        process.terminate()
        process.wait(timeout=15)


if __name__ == "__main__":
    main()
