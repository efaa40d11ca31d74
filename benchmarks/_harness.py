"""What every benchmark shares: the emulator in its own process, the connection, and how figures are reported.

Each benchmark script (``benchmarks/p*.py``) is runnable alone and prints its figures; with ``--json PATH`` it
also writes them for ``benchmarks/run.py``, which runs the whole suite and prints one summary. The emulator
runs in a separate process so that the memory and CPU measured are the client's alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

MiB = 1024 * 1024
BENCH_KEY = "bench-key"


@dataclass(frozen=True)
class Figure:
    """One measured figure and the goal it is held against.

    :param benchmark: the benchmark's id, e.g. ``P3``.
    :param name: what was measured, e.g. ``import cost vs HttpOperator``.
    :param value: the measured value, in ``unit``.
    :param unit: ``s``, ``MiB``, ``%``, ``x`` (a ratio) ...
    :param bound: the goal's limit, in the same unit, or ``None`` for a figure shown for comparison only.
    :param goal: ``max`` if ``value`` must not exceed ``bound``, ``min`` if it must reach it.
    :param detail: how the figure was obtained, in a few words.
    """

    benchmark: str
    name: str
    value: float
    unit: str
    bound: float | None = None
    goal: Literal["max", "min"] = "max"
    detail: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the goal holds (``None`` when there is no goal)."""
        if self.bound is None:
            return None
        return self.value <= self.bound if self.goal == "max" else self.value >= self.bound

    def line(self) -> str:
        """The figure as one printed line, with its goal and verdict."""
        text = f"{self.benchmark} {self.name}: {self.value:.3g} {self.unit}"
        if self.bound is not None:
            relation = "<=" if self.goal == "max" else ">="
            verdict = "met" if self.met else "MISSED"
            text += f" (goal {relation} {self.bound:g} {self.unit}: {verdict})"
        if self.detail:
            text += f" [{self.detail}]"
        return text


class Report:
    """Collects figures, prints each as it comes, and writes them as JSON at the end if asked."""

    def __init__(self, json_path: str | None) -> None:
        self._json_path = json_path
        self.figures: list[Figure] = []

    def add(self, figure: Figure) -> Figure:
        """Record and print ``figure``.

        :param figure: the measured figure.
        """
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    def note(self, text: str) -> None:
        """Print a line of context that is not a figure.

        :param text: the line.
        """
        print(f"   {text}", flush=True)

    def write(self) -> None:
        """Write the figures to the ``--json`` path, if one was given."""
        if self._json_path:
            Path(self._json_path).write_text(json.dumps([asdict(f) for f in self.figures], indent=2))


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes (``--json``).

    :param doc: the benchmark module's docstring; its first line describes the command.
    """
    result = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    result.add_argument("--json", help="also write the figures to this JSON file (used by benchmarks/run.py)")
    return result


@dataclass(frozen=True)
class RunningEmulator:
    """An emulator process: its ``/external`` base URL and the agent key it accepts.

    :param base_url: ``http://127.0.0.1:PORT/external``.
    :param key: the default agent's key.
    """

    base_url: str
    key: str

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (for the control API)."""
        return self.base_url.removesuffix("/external")

    def use_as_default_connection(self) -> None:
        """Point ``raia_default`` (an environment connection, as Airflow reads it) at this emulator."""
        os.environ["AIRFLOW_CONN_RAIA_DEFAULT"] = json.dumps(
            {"conn_type": "raia", "password": self.key, "host": self.base_url}
        )


@contextlib.contextmanager
def emulator(*options: str, key: str = BENCH_KEY) -> Iterator[RunningEmulator]:
    """Start ``python -m raia_provider.testing`` on a free loopback port; stop it on exit.

    :param options: more CLI options, e.g. ``"--latency", "0.2", "--rate-limit", "50"``.
    :param key: the default agent's key.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "raia_provider.testing", "--port", "0", "--key", key, *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"(http://\S+)", process.stdout.readline())
        if not match:
            raise SystemExit("the emulator did not start")
        url = match.group(1).rstrip("/")
        base_url = url if url.endswith("/external") else f"{url}/external"
        yield RunningEmulator(base_url=base_url, key=key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    """This process's resident set size now, in MiB (from ``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / MiB


def cpu_seconds() -> float:
    """User plus system CPU time this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
