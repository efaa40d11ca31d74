"""P5: a hook round trip (``RaiaHook.get_agent``) costs at most 1.2x a bare ``requests.Session`` call on keep-alive.

How: the emulator runs in its own process with no latency. One hook and one bare ``requests.Session`` each
call ``GET {base}/agents/by-api-key`` (the bare call: ``session.get(url, headers={"Agent-Secret-Key": key})``
then ``.json()``; the hook also validates the answer into a model, with its retry wrapper). Both warm up
first (connection open, lazy imports done), then ``--calls`` calls each (2000; 500 with ``--quick``) are
made one after the other in ``--rounds`` rounds (5) that alternate which client goes first, every call
timed with ``time.perf_counter``. The figure is the ratio of the median per-call latencies. With
``--profile`` the hook's calls are also run under cProfile and the top functions are printed.

Also timed (goal 1 s each, what the test suite's fixtures rely on to stay cheap): an in-process
``RaiaEmulator`` start (port bound, first request answerable) and stop, and a stop while a request is held
by a 30 s ``slow`` fault (the emulator's emulated delays wake on stop; the tests prove that by events).

Run: ``.venv-airflow-3.3/bin/python benchmarks/p5_round_trip.py [--quick] [--profile] [--json PATH]``
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import statistics
import threading
import time
from collections.abc import Callable

import requests
from _harness import Figure, Report, emulator, parser

RATIO_BOUND = 1.2
LIFE_CYCLE_BOUND = 1.0  # seconds
AGENT_PATH = "/agents/by-api-key"  # raia_provider.operations.agents.GetAgent.operation
WARM_UP_CALLS = 100


def timed_calls(call: Callable[[], object], count: int) -> list[float]:
    """Make ``count`` sequential calls; return each one's duration in seconds.

    :param call: one round trip.
    :param count: how many.
    """
    durations = []
    clock = time.perf_counter
    for _ in range(count):
        started = clock()
        call()
        durations.append(clock() - started)
    return durations


def profile_hook(call: Callable[[], object], count: int, report: Report) -> None:
    """Run ``count`` hook calls under cProfile and print where the time goes.

    :param call: one hook round trip.
    :param count: how many.
    :param report: where the lines are printed.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(25)
        report.note(f"cProfile of {count} hook calls, by {sort}:")
        for line in out.getvalue().splitlines():
            if line.strip():
                report.note(line)


def emulator_life_cycle(report: Report) -> None:
    """Time an in-process emulator's start, stop, and stop with a 30 s slow request in flight.

    :param report: where the figures go.
    """
    from raia_provider.testing.emulator.server import RaiaEmulator

    clock = time.perf_counter
    emulator = RaiaEmulator(key="bench")
    started = clock()
    emulator.start()
    start_seconds = clock() - started
    stopping = clock()
    emulator.stop()
    stop_seconds = clock() - stopping

    emulator = RaiaEmulator(key="bench").start()
    emulator.inject_fault(kind="slow", delay=30)

    def held_call() -> None:
        with contextlib.suppress(requests.RequestException):  # dropped by the stop: what is timed
            requests.get(f"{emulator.base_url}{AGENT_PATH}", headers={"Agent-Secret-Key": "bench"}, timeout=60)

    caller = threading.Thread(target=held_call)
    caller.start()
    while not emulator.requests():  # until the held request has arrived
        time.sleep(0.001)
    stopping = clock()
    emulator.stop()
    held_stop_seconds = clock() - stopping
    caller.join()
    for name, value in (
        ("emulator start (in process)", start_seconds),
        ("emulator stop", stop_seconds),
        ("emulator stop with a 30 s slow request in flight", held_stop_seconds),
    ):
        report.add(Figure("P5", name, value, "s", bound=LIFE_CYCLE_BOUND, detail="one run"))


def arguments() -> argparse.Namespace:
    """Parse the command line (``--json``, ``--quick``, ``--calls``, ``--rounds``, ``--profile``)."""
    result = parser(__doc__)
    result.add_argument("--calls", type=int, help="calls per client (default 2000; 500 with --quick)")
    result.add_argument("--rounds", type=int, default=5, help="rounds alternating which client goes first (5)")
    result.add_argument("--quick", action="store_true", help="a smaller run: 500 calls per client")
    result.add_argument("--profile", action="store_true", help="also profile the hook's calls with cProfile")
    return result.parse_args()


def main() -> None:
    """Time both clients and report their median latencies and the ratio."""
    args = arguments()
    calls = args.calls or (500 if args.quick else 2000)
    per_round = max(1, calls // args.rounds)
    report = Report(args.json)
    with emulator() as running:
        running.use_as_default_connection()
        from raia_provider.hooks.raia import RaiaHook

        hook = RaiaHook()
        session = requests.Session()
        url = running.base_url + AGENT_PATH
        headers = {"Agent-Secret-Key": running.key}

        def bare() -> object:
            response = session.get(url, headers=headers)
            response.raise_for_status()
            return response.json()

        def via_hook() -> object:
            return hook.get_agent()

        clients: dict[str, Callable[[], object]] = {"hook": via_hook, "bare": bare}
        for call in clients.values():
            timed_calls(call, WARM_UP_CALLS)
        durations: dict[str, list[float]] = {name: [] for name in clients}
        for round_number in range(args.rounds):
            order = list(clients) if round_number % 2 == 0 else list(reversed(clients))
            for name in order:
                durations[name] += timed_calls(clients[name], per_round)
        if args.profile:
            profile_hook(via_hook, per_round, report)
        hook.close()
        session.close()
    medians = {name: statistics.median(values) for name, values in durations.items()}
    for name, values in durations.items():
        quartiles = statistics.quantiles(values, n=4)
        report.note(
            f"{name}: median {medians[name] * 1e3:.3f} ms per call (quartiles {quartiles[0] * 1e3:.3f}-"
            f"{quartiles[2] * 1e3:.3f} ms; mean {statistics.fmean(values) * 1e3:.3f} ms; {len(values)} calls)"
        )
    report.add(Figure("P5", "hook get_agent median latency", medians["hook"] * 1e3, "ms", detail="no goal"))
    report.add(Figure("P5", "bare requests.Session median latency", medians["bare"] * 1e3, "ms", detail="no goal"))
    report.add(
        Figure(
            "P5",
            "hook round trip vs bare requests.Session",
            medians["hook"] / medians["bare"],
            "x",
            bound=RATIO_BOUND,
            detail=f"median per-call latency, {per_round * args.rounds} calls each, {args.rounds} alternating rounds",
        )
    )
    emulator_life_cycle(report)
    report.write()


if __name__ == "__main__":
    main()
