"""P2: 1,000 RaiaPromptTriggers pending in one event loop: the RSS and CPU they add at a 5 s poll interval.

How it is measured. The emulator runs in its own process with ``--prompt-delay none`` (every async prompt
stays pending until its control API completes it), so what is measured here is the client's alone. Before
anything is measured, this process creates the prompts (sync ``RaiaHook.create_prompt``) and runs one
trigger to its success event on a throw-away event loop, so that imports, the connection lookup code and
pydantic's lazily built validators are not counted. The triggers then run as Airflow's triggerer runs them
(``airflow/jobs/triggerer_job_runner.py``): each is rebuilt from its ``serialize()`` output
(``RaiaPromptTrigger(**kwargs)``) and ``async for event in trigger.run()`` runs in an asyncio task of its own,
all in one fresh event loop, with ``trigger.cleanup()`` in a ``finally``. They are started evenly over one
poll interval (as a triggerer picks them up over time; ``--spread 0`` starts them all at once).

* Counted: everything this process allocates from just before the first trigger is built to the end of
  the window: the trigger objects, their tasks, hooks and connection settings, and every HTTP client and
  connection pool they open (with a per-loop shared client: that client too, because it is created on the
  measured loop, not on the warm-up one).
* RSS: ``/proc/self/statm`` sampled every 0.2 s. *Added RSS* is the highest sample from the first trigger
  to the end of the window minus the sample taken just before the first trigger; *steady* is the last sample.
* CPU: user + system CPU time of this process over the window, divided by the window's length; the window
  starts one poll interval after every trigger has polled at least once.
* Polls: counted by the emulator's request log over the window (cleared at its start, read at its end,
  after RSS and CPU have been taken), per prompt, to show that every trigger really polled every interval.
* Baseline: garbage is collected and freed heap handed back to the OS (glibc ``malloc_trim``) just before
  it, so that the triggers cannot hide in memory the set-up freed.
* Python heap per trigger: a cross-check of RSS that allocator slack cannot hide, from 100 more triggers run
  under ``tracemalloc`` on a loop of their own before the baseline (then cancelled).
* Also shown: CPU per poll, failed reads (a poll that raised; must be 0), the connections aiohttp opened
  in the window (counted at ``aiohttp.TCPConnector._create_connection``) and the sockets this
  process holds at its end, and how long the start took.
* Reference, after the run: the same number of coroutines polling at the same pace and spread through one
  bare ``httpx.AsyncClient`` (what the provider used before), then one bare ``aiohttp.ClientSession`` (what
  it uses now), to tell what the provider adds from what the HTTP client costs on the machine.
* End: 90 % of the prompts are completed through the control API and their triggers must yield exactly one
  ``success`` event; the other 10 % are cancelled (as the triggerer does when a task is cleared) and must end
  with ``CancelledError``; either way the trigger's hook must have let go of its HTTP client.

Run: ``.venv-airflow-3.3/bin/python benchmarks/p2_triggers.py [--quick] [--json PATH]`` (``--quick``: 200
triggers, 20 s window; ``--profile PATH`` writes a cProfile of the window, ``--verbose`` keeps Airflow's
INFO lines).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import ctypes
import gc
import importlib
import logging
import os
import pstats
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Figure, Report, RunningEmulator, cpu_seconds, current_rss_mib, emulator, parser

RSS_BOUND_MIB = 40.0
CPU_BOUND_PERCENT = 10.0
COMPLETED_SHARE = 0.9
HEAP_SAMPLE = 100
POLL_PATH = "/external/prompts/{id}/response-on"


@dataclass
class Options:
    """What to run.

    :param triggers: how many triggers wait at once.
    :param poll_interval: each trigger's ``poll_interval`` in seconds.
    :param window: the steady-state measurement window in seconds.
    :param spread: the triggers are started evenly over this many seconds.
    :param profile: write a cProfile of the window to this path (the CPU figure is then not valid).
    :param json: the ``--json`` path, if any.
    """

    triggers: int
    poll_interval: float
    window: float
    spread: float
    profile: str | None
    json: str | None


@dataclass
class Measured:
    """What one run measured.

    :param rss_before: MiB, just before the first trigger was built.
    :param rss_peak: MiB, the highest sample from then to the end of the window.
    :param rss_steady: MiB, at the end of the window.
    :param cpu: CPU seconds used over the window.
    :param system_cpu: of which in the kernel (system time).
    :param window: the window's measured length in seconds.
    :param ramp: seconds from the first trigger's start until every trigger had polled once.
    :param polls: polls the emulator received in the window, per prompt id.
    :param failed_reads: poll reads that failed (logged as retried) in the window, and over the whole run.
    :param sockets: sockets this process held open at the end of the window.
    :param connections_opened: connections aiohttp opened during the window.
    :param heap_per_trigger: Python heap (tracemalloc) each trigger holds, in KiB (see :func:`heap_pass`).
    :param reference: CPU ms per request of a bare httpx and a bare aiohttp client polling as the triggers do
        (same count, pace and spread; see :func:`reference_pass`).
    :param succeeded: triggers that yielded exactly one ``success`` event for their prompt.
    :param cancelled: triggers cancelled that ended with ``CancelledError`` and released their client.
    :param problems: anything else, one line each.
    """

    rss_before: float = 0.0
    rss_peak: float = 0.0
    rss_steady: float = 0.0
    cpu: float = 0.0
    system_cpu: float = 0.0
    window: float = 0.0
    ramp: float = 0.0
    polls: Counter[str] = field(default_factory=Counter)
    failed_reads: tuple[int, int] = (0, 0)
    sockets: int = 0
    connections_opened: int = 0
    heap_per_trigger: float = 0.0
    reference: tuple[float, float] = (0.0, 0.0)
    succeeded: int = 0
    cancelled: int = 0
    problems: list[str] = field(default_factory=list)


class RssSampler:
    """Samples this process's RSS every ``period`` seconds in a task of the measured loop."""

    def __init__(self, period: float = 0.2) -> None:
        self.period = period
        self.peak = current_rss_mib()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling."""
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, current_rss_mib())
            await asyncio.sleep(self.period)

    async def stop(self) -> None:
        """Take a last sample and stop."""
        self.peak = max(self.peak, current_rss_mib())
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def build_parser() -> argparse.ArgumentParser:
    """The command line: the harness's options plus this benchmark's."""
    result = parser(__doc__)
    result.add_argument("--quick", action="store_true", help="200 triggers and a 20 s window")
    result.add_argument("--triggers", type=int, help="triggers waiting at once (default 1000; --quick 200)")
    result.add_argument("--poll-interval", type=float, default=5.0, help="seconds between polls (default 5)")
    result.add_argument("--window", type=float, help="steady-state window in seconds (default 30; --quick 20)")
    result.add_argument("--spread", type=float, help="start the triggers over this many seconds (default: interval)")
    result.add_argument("--profile", help="write a cProfile of the window here (the CPU figure is then invalid)")
    result.add_argument("--verbose", action="store_true", help="keep Airflow's INFO log lines (two per trigger)")
    return result


def options_from_args(argv: list[str] | None = None) -> Options:
    """Parse the command line.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    """
    args = build_parser().parse_args(argv)
    if not args.verbose:  # read by Airflow at import; the triggers log only as they start and end
        os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    return Options(
        triggers=args.triggers or (200 if args.quick else 1000),
        poll_interval=args.poll_interval,
        window=args.window or (20.0 if args.quick else 30.0),
        spread=args.poll_interval if args.spread is None else args.spread,
        profile=args.profile,
        json=args.json,
    )


class FailedReads(logging.Filter):
    """Counts the poll loop's "reading ... failed" warnings (a read that raised and will be retried)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Count warnings; let every record through."""
        if record.levelno >= logging.WARNING:
            self.count += 1
        return True


class ConnectionCounter:
    """Counts the connections aiohttp opens (``aiohttp.TCPConnector._create_connection``) until stopped."""

    def __init__(self) -> None:
        import aiohttp

        self.count = 0
        self._connector = aiohttp.TCPConnector
        self._original = self._connector._create_connection
        original = self._original

        async def counting(connector: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(connector, *args, **kwargs)

        self._connector._create_connection = counting  # type: ignore[method-assign,assignment]

    def stop(self) -> int:
        """Stop counting; return the count."""
        self._connector._create_connection = self._original  # type: ignore[method-assign]
        return self.count


def system_cpu_seconds() -> float:
    """System (kernel) CPU time this process has used so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def open_sockets() -> int:
    """How many sockets this process holds open (from ``/proc/self/fd``)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(fd).startswith("socket:")
    return count


def release_free_memory() -> None:
    """Collect garbage and hand freed heap back to the OS, so that the RSS baseline holds no reusable slack.

    Without this, memory freed by the set-up (1,000 prompt creations, the warm-up) stays resident and the
    triggers' allocations reuse it unseen.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the baseline may then hold some slack
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def rebuild(trigger: Any) -> Any:
    """Build a trigger from its ``serialize()`` output, as the triggerer does from the database row.

    :param trigger: the trigger an operator deferred with.
    """
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


async def run_like_the_triggerer(trigger: Any) -> list[dict[str, Any]]:
    """Run one trigger the way ``TriggerRunner.run_trigger`` does; return its events' payloads.

    :param trigger: the rebuilt trigger.
    """
    events: list[dict[str, Any]] = []
    try:
        async for event in trigger.run():
            events.append(event.payload)
    finally:
        try:
            await trigger.cleanup()
        except Exception as exc:  # the triggerer suppresses it too; here it is reported
            events.append({"status": "cleanup-raised", "message": repr(exc)})
    return events


def new_trigger(prompt_id: str, options: Options) -> Any:
    """A ``RaiaPromptTrigger`` for ``prompt_id`` as the triggerer builds it (from its serialized kwargs).

    :param prompt_id: the pending prompt.
    :param options: the run's options.
    """
    from raia_provider.triggers.raia import RaiaPromptTrigger

    deferred = RaiaPromptTrigger(
        prompt_id=prompt_id,
        conn_id="raia_default",
        poll_interval=options.poll_interval,
        end_time=time.time() + 3600,
    )
    return rebuild(deferred)


async def warm_up(prompt_id: str, control: Any) -> None:
    """Run one trigger through a pending read and a completed one, on its own event loop.

    :param prompt_id: a pending prompt.
    :param control: the emulator's control client.
    """
    from raia_provider.triggers.raia import RaiaPromptTrigger

    trigger = RaiaPromptTrigger(prompt_id=prompt_id, conn_id="raia_default", poll_interval=0.05, end_time=1e12)
    task = asyncio.create_task(run_like_the_triggerer(rebuild(trigger)))
    await asyncio.sleep(0.5)
    control.complete_prompt(prompt_id)
    events = await asyncio.wait_for(task, 30)
    if [event["status"] for event in events] != ["success"]:
        raise SystemExit(f"the warm-up trigger did not succeed: {events}")


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``check()`` holds.

    :param check: the condition.
    :param timeout: seconds to wait at most.
    :param what: what is awaited, for the error.
    """
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Started:
    """A trigger the way the triggerer holds it: the object, and the task running it.

    :param prompt_id: the prompt it waits for.
    :param trigger: the trigger.
    :param task: the task running :func:`run_like_the_triggerer`.
    """

    prompt_id: str
    trigger: Any
    task: asyncio.Task[list[dict[str, Any]]]

    @property
    def released(self) -> bool:
        """Whether the trigger's hook has let go of its HTTP client (or never opened one)."""
        hook = self.trigger._hook
        return hook is None or hook._async_transport is None


async def start_all(prompt_ids: list[str], options: Options) -> AsyncIterator[Started]:
    """Start one triggerer-style task per prompt, evenly over ``options.spread`` seconds.

    :param prompt_ids: the pending prompts.
    :param options: the run's options.
    """
    began = time.monotonic()
    for index, prompt_id in enumerate(prompt_ids):
        due = began + options.spread * index / len(prompt_ids)
        if (delay := due - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        trigger = new_trigger(prompt_id, options)
        task = asyncio.create_task(run_like_the_triggerer(trigger), name=f"trigger {prompt_id}")
        yield Started(prompt_id, trigger, task)


async def measure(prompt_ids: list[str], control: Any, options: Options) -> Measured:
    """Run every trigger in this event loop and measure the steady state; then end them all.

    :param prompt_ids: the pending prompts, one per trigger.
    :param control: the emulator's control client.
    :param options: the run's options.
    """
    from raia_provider.engines.polling import PollTarget

    result = Measured()
    failures = FailedReads()
    logging.getLogger("raia_provider.engines.polling").addFilter(failures)
    release_free_memory()
    sampler = RssSampler()
    result.rss_before = sampler.peak
    sampler.start()

    # Every trigger's first read is noted by wrapping PollTarget.aread; the wrapper is removed before the
    # window so that it costs nothing there.
    first_polls: set[str] = set()
    original_aread = PollTarget.aread

    async def noting_aread(target: PollTarget, hook: Any) -> Any:
        reading = await original_aread(target, hook)
        first_polls.add(target.ids["prompt_id"])  # read and answered
        return reading

    PollTarget.aread = noting_aread  # type: ignore[method-assign,assignment]
    started = time.monotonic()
    triggers: list[Started] = []
    try:
        async for one in start_all(prompt_ids, options):
            triggers.append(one)
        await until(lambda: len(first_polls) == len(prompt_ids), 60 + options.poll_interval, "every first poll")
    finally:
        PollTarget.aread = original_aread  # type: ignore[method-assign]
    result.ramp = time.monotonic() - started
    await asyncio.sleep(options.poll_interval)  # one more round: every trigger is now in its steady rhythm
    if early := [one for one in triggers if one.task.done()]:
        result.problems.append(f"{len(early)} triggers ended before the window: {early[0].task.result()}")

    control.clear_requests()
    profiler = cProfile.Profile() if options.profile else None
    failed_before = failures.count
    connects = ConnectionCounter()
    wall, cpu, system_cpu = time.perf_counter(), cpu_seconds(), system_cpu_seconds()
    if profiler:
        profiler.enable()
    await asyncio.sleep(options.window)
    if profiler:
        profiler.disable()
    result.cpu = cpu_seconds() - cpu
    result.system_cpu = system_cpu_seconds() - system_cpu
    result.window = time.perf_counter() - wall
    result.rss_steady = current_rss_mib()
    result.sockets = open_sockets()
    result.connections_opened = connects.stop()
    failed_in_window = failures.count - failed_before
    await sampler.stop()
    result.rss_peak = sampler.peak
    if profiler and options.profile:
        profiler.dump_stats(options.profile)
        pstats.Stats(options.profile).sort_stats("cumulative").print_stats(25)

    polls = await asyncio.to_thread(control.requests, "GET", POLL_PATH)
    result.polls = Counter(request.path.split("/")[3] for request in polls)
    del polls
    await finish(triggers, control, options, result)
    result.failed_reads = (failed_in_window, failures.count)
    return result


async def heap_pass(prompt_ids: list[str], options: Options) -> tuple[float, int]:
    """Run one trigger per prompt under tracemalloc on the warm-up loop; return the heap each holds.

    A cross-check of the RSS figure that allocator slack cannot hide: the Python heap (KiB per trigger)
    the triggers hold once each has polled and gone to sleep, their share of the loop's HTTP client
    included. They are then cancelled, as the triggerer cancels a trigger whose task was cleared; the
    second value is how many of them ended with ``CancelledError`` and let go of their HTTP client.

    :param prompt_ids: pending prompts, one per trigger.
    :param options: the run's options.
    """
    gc.collect()
    tracemalloc.start()
    triggers: list[Started] = []
    try:
        async for one in start_all(prompt_ids, Options(**{**vars(options), "spread": 1.0})):
            triggers.append(one)
        await asyncio.sleep(2.0)  # every trigger has polled once and sleeps until its next poll
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        for one in triggers:
            one.task.cancel()
        await asyncio.wait([one.task for one in triggers], timeout=30)
    return held / 1024 / len(prompt_ids), sum(one.task.cancelled() and one.released for one in triggers)


async def finish(triggers: list[Started], control: Any, options: Options, result: Measured) -> None:
    """Complete most prompts and expect success events; cancel the other triggers and expect clean ends.

    A clean end also means the trigger's hook let go of the loop's HTTP client.

    :param triggers: the running triggers.
    :param control: the emulator's control client.
    :param options: the run's options.
    :param result: where the outcome is recorded.
    """
    completed = triggers[: round(len(triggers) * COMPLETED_SHARE)]
    to_cancel = triggers[len(completed) :]

    def complete_all() -> None:
        for one in completed:
            control.complete_prompt(one.prompt_id)

    await asyncio.to_thread(complete_all)
    await asyncio.wait([one.task for one in completed], timeout=2 * options.poll_interval + 30)
    for one in completed:
        if not one.task.done():
            result.problems.append(f"trigger {one.prompt_id} yielded no event after its prompt was completed")
        elif one.task.cancelled() or one.task.exception() is not None:
            result.problems.append(f"trigger {one.prompt_id} ended without an event: {one.task!r}")
        elif [(e["status"], e.get("prompt_id")) for e in one.task.result()] != [("success", one.prompt_id)]:
            result.problems.append(f"trigger {one.prompt_id} yielded {one.task.result()}")
        elif not one.released:
            result.problems.append(f"trigger {one.prompt_id} kept its HTTP client")
        else:
            result.succeeded += 1

    # Cancel in the middle of a wait, as the triggerer does when a deferred task is cleared or marked.
    for one in to_cancel:
        one.task.cancel()
    await asyncio.wait([one.task for one in to_cancel], timeout=30)
    for one in to_cancel:
        if not one.task.done():
            result.problems.append(f"cancelled trigger {one.prompt_id} did not end")
        elif not one.task.cancelled():
            result.problems.append(f"cancelled trigger {one.prompt_id} ended otherwise: {one.task!r}")
        elif not one.released:
            result.problems.append(f"cancelled trigger {one.prompt_id} kept its HTTP client")
        else:
            result.cancelled += 1
    for one in triggers:
        one.task.cancel()


async def reference_pass(prompt_ids: list[str], running: RunningEmulator, options: Options) -> tuple[float, float]:
    """CPU per request of bare HTTP clients polling the same way the triggers do (for reference).

    For each client, ``options.triggers`` coroutines share one client and each reads a pending prompt every
    ``poll_interval`` seconds, started evenly over one interval, exactly like the triggers but with nothing of
    the provider in between: a bare ``httpx.AsyncClient`` (what the provider used before) and a bare
    ``aiohttp.ClientSession`` (what it uses now). CPU is taken over a window of ``min(window / 2, 15 s)``
    after one interval of ramp. Returns ms per request for each.

    :param prompt_ids: pending prompts to read (reused round-robin).
    :param running: the emulator process.
    :param options: the run's options.
    """
    import aiohttp
    import httpx

    headers = {"Agent-Secret-Key": running.key}
    urls = [f"{running.base_url}/prompts/{prompt_id}/response-on" for prompt_id in prompt_ids]
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)) as client:

        async def httpx_get(url: str) -> None:
            (await client.get(url, headers=headers)).json()

        bare_httpx = await poll_like_the_triggers(httpx_get, urls, options)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def aiohttp_get(url: str) -> None:
            async with session.get(url, headers=headers) as response:
                await response.json()

        bare_aiohttp = await poll_like_the_triggers(aiohttp_get, urls, options)
    return bare_httpx, bare_aiohttp


async def poll_like_the_triggers(get: Callable[[str], Any], urls: list[str], options: Options) -> float:
    """Run ``options.triggers`` coroutines that each ``get`` one URL every interval; return CPU ms per read.

    :param get: reads one URL (a coroutine function).
    :param urls: the URLs, one per coroutine (reused round-robin).
    :param options: the run's options.
    """
    reads = 0

    async def poller(number: int) -> None:
        nonlocal reads
        await asyncio.sleep(options.spread * number / options.triggers)
        url = urls[number % len(urls)]
        while True:
            await get(url)
            reads += 1
            await asyncio.sleep(options.poll_interval)

    tasks = [asyncio.create_task(poller(number)) for number in range(options.triggers)]
    await asyncio.sleep(options.spread + options.poll_interval)
    cpu, before = cpu_seconds(), reads
    await asyncio.sleep(min(options.window / 2, 15.0))
    used, done = cpu_seconds() - cpu, reads - before
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return 1000 * used / done if done else float("nan")


def run(running: RunningEmulator, options: Options) -> Measured:
    """Create the prompts, warm up, then measure.

    :param running: the emulator process.
    :param options: the run's options.
    """
    running.use_as_default_connection()
    from raia_provider.hooks.raia import RaiaHook
    from raia_provider.testing.emulator.client import EmulatorClient

    control = EmulatorClient(running.origin)
    hook = RaiaHook()
    try:
        count = 1 + options.triggers + HEAP_SAMPLE
        prompt_ids = [hook.create_prompt(prompt=f"P2 question {i}").prompt_id for i in range(count)]
    finally:
        hook.close()
    warm, extra, prompt_ids = prompt_ids[0], prompt_ids[1 : 1 + HEAP_SAMPLE], prompt_ids[1 + HEAP_SAMPLE :]
    asyncio.run(warm_up(warm, control))
    heap_per_trigger, heap_cancelled = asyncio.run(heap_pass(extra, options))
    try:
        result = asyncio.run(measure(prompt_ids, control, options))
        result.heap_per_trigger = heap_per_trigger
        result.cancelled += heap_cancelled
        result.reference = asyncio.run(reference_pass(extra, running, options))
        return result
    finally:
        control.close()


def report(measured: Measured, options: Options) -> Report:
    """Print (and with ``--json`` write) the figures.

    :param measured: what was measured.
    :param options: the run's options.
    """
    out = Report(options.json)
    n, interval = options.triggers, options.poll_interval
    where = f"{n} triggers, {interval:g} s interval, {measured.window:.0f} s window"
    added_peak = measured.rss_peak - measured.rss_before
    out.add(
        Figure(
            "P2",
            "added RSS (peak)",
            added_peak,
            "MiB",
            RSS_BOUND_MIB,
            detail=f"{where}; highest /proc/self/statm sample minus the one before the first trigger; "
            f"{1024 * added_peak / n:.1f} KiB per trigger",
        )
    )
    out.add(Figure("P2", "added RSS (end of window)", measured.rss_steady - measured.rss_before, "MiB"))
    out.add(
        Figure(
            "P2",
            "Python heap per trigger",
            measured.heap_per_trigger,
            "KiB",
            detail=f"tracemalloc, {HEAP_SAMPLE} triggers on a loop of their own before the baseline, each polled once",
        )
    )
    cpu_detail = (
        f"{where}; user+system CPU seconds of this process / window "
        f"({100 * measured.system_cpu / measured.window:.1f} % system)"
    )
    out.add(
        Figure(
            "P2",
            "CPU",
            100 * measured.cpu / measured.window,
            "% of a core",
            CPU_BOUND_PERCENT,
            detail=cpu_detail + (" (under cProfile: not valid)" if options.profile else ""),
        )
    )
    polls = sum(measured.polls.values())
    out.add(
        Figure(
            "P2",
            "CPU per poll",
            1000 * measured.cpu / polls if polls else float("nan"),
            "ms",
            detail=f"{polls} polls in the window ({polls / measured.window:.0f}/s)",
        )
    )
    polls_per_second = polls / measured.window if polls else n / interval
    ours = 1000 * measured.cpu / polls if polls else float("nan")
    for name, cost in zip(("httpx AsyncClient", "aiohttp ClientSession"), measured.reference, strict=True):
        out.add(
            Figure(
                "P2",
                f"reference: bare {name}, CPU per poll",
                cost,
                "ms",
                detail=f"{n} coroutines, one shared client, every {interval:g} s, same spread: "
                f"{cost * polls_per_second / 10:.1f} % of a core at {polls_per_second:.0f} polls/s; the triggers "
                f"cost {ours / cost:.2f} x this"
                if cost
                else "",
            )
        )
    counts = [measured.polls.get(prompt_id, 0) for prompt_id in measured.polls] + [0] * (n - len(measured.polls))
    expected = measured.window / interval
    out.add(
        Figure(
            "P2",
            "polls per trigger in the window (mean)",
            polls / n,
            "polls",
            detail=f"min {min(counts)}, max {max(counts)}; every {interval:g} s over {measured.window:.1f} s "
            f"is {expected:.1f}; {len(measured.polls)} of {n} triggers polled",
        )
    )
    window_failures, run_failures = measured.failed_reads
    out.add(
        Figure(
            "P2",
            "failed reads in the window",
            window_failures,
            "reads",
            0,
            detail=f"{run_failures} over the whole run; each is retried by the poll loop",
        )
    )
    out.add(
        Figure(
            "P2",
            "connections opened in the window",
            measured.connections_opened,
            "connections",
            detail=f"{measured.connections_opened / polls if polls else 0:.2f} per poll (each one a TLS handshake "
            f"against raia); {measured.sockets} sockets open at the end of the window",
        )
    )
    out.add(Figure("P2", "ramp (all started and polled once)", measured.ramp, "s"))
    total = n + HEAP_SAMPLE
    ended = measured.succeeded + measured.cancelled
    out.add(
        Figure(
            "P2",
            "triggers that ended cleanly",
            100 * ended / total,
            "%",
            100,
            goal="min",
            detail=f"of {total}: {measured.succeeded} success events after their prompt was completed, "
            f"{measured.cancelled} cancelled mid-wait ({HEAP_SAMPLE} of them from the heap pass)",
        )
    )
    for problem in measured.problems[:20]:
        out.note(problem)
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    """
    options = options_from_args(argv)
    with emulator("--prompt-delay", "none") as running:
        measured = run(running, options)
    out = report(measured, options)
    out.note(f"pid {os.getpid()}; Python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    out.write()


if __name__ == "__main__":
    main()
