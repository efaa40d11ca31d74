"""P2b: 1,000 RaiaPromptTriggers on one connection with a rate budget, against an emulator held to that rate.

The emulator runs in its own process with ``--prompt-delay none`` (every prompt stays pending until its control
API completes it). The prompts are created first, with no rate limit; then the emulator's limit is set to the
budget (``rate_limit``, a token bucket of one second's worth) and the connection ``raia_default`` gets
``{"requests_per_second": <budget>}`` in its Extra. The triggers run as the triggerer runs them (rebuilt from
``serialize()``, each in its own task on one event loop, ``cleanup()`` in a ``finally``), all started at once,
each with a 5 s ``poll_interval``: together they would poll 200 times a second, four times the budget.

* Once every trigger has polled at least once, all prompts are completed through the control API (from a
  worker thread, so the loop keeps polling); each completion's time is taken when its call returns.
* Latency: from a prompt's completion to its trigger's event. Goal: the slowest within
  1.2 x (triggers / budget) seconds, the time a full round of polls takes within the budget.
* 429s: the emulator's request log, over the whole run: poll answers with status 429 as a share of all
  polls. Goal: at most 1 %.
* Also shown: the mean interval between one trigger's polls (the budget stretches it from 5 s to about
  triggers / budget), how often the spread was logged (once), CPU of this process, and that every trigger
  yielded exactly one ``success`` event.

Run: ``.venv-airflow-3.3/bin/python benchmarks/p2b_rate_budget.py [--quick] [--json PATH]`` (``--quick``: 400
triggers, still more than the budget lets poll every 5 s; the budget stays 50 requests/s).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Figure, Report, cpu_seconds, emulator, parser
from p2_triggers import POLL_PATH, rebuild, run_like_the_triggerer, until

BUDGET = 50.0
POLL_INTERVAL = 5.0
LATENCY_FACTOR = 1.2
THROTTLED_BOUND_PERCENT = 1.0


class NoticeCounter(logging.Handler):
    """Counts the gate's one-time notice that waits are spread."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count the notice."""
        if "wait for their turn" in record.getMessage():
            self.count += 1


async def measure(prompt_ids: list[str], control: Any) -> dict[str, Any]:
    """Run the triggers, complete the prompts once all have polled, and time each answer.

    :param prompt_ids: the pending prompts, one per trigger.
    :param control: the emulator's control client.
    """
    from raia_provider.triggers.raia import RaiaPromptTrigger

    arrived: dict[str, float] = {}
    events: dict[str, list[dict[str, Any]]] = {}

    async def run_one(prompt_id: str) -> None:
        trigger = RaiaPromptTrigger(
            prompt_id=prompt_id, conn_id="raia_default", poll_interval=POLL_INTERVAL, end_time=time.time() + 3600
        )
        events[prompt_id] = await run_like_the_triggerer(rebuild(trigger))
        arrived[prompt_id] = time.monotonic()

    cpu = cpu_seconds()
    started = time.monotonic()
    tasks = [asyncio.create_task(run_one(prompt_id)) for prompt_id in prompt_ids]
    polled: set[str] = set()

    def everyone_polled() -> bool:
        polled.update(r.path.split("/")[3] for r in control.requests(method="GET", path=POLL_PATH))
        return len(polled) >= len(prompt_ids)

    # One full round takes triggers / budget seconds; the check itself runs in a thread.
    round_seconds = len(prompt_ids) / BUDGET
    deadline = time.monotonic() + 3 * round_seconds + 30
    while not await asyncio.to_thread(everyone_polled):
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(polled)} of {len(prompt_ids)} triggers polled in {deadline - started:.0f} s")
        await asyncio.sleep(1.0)
    first_round = time.monotonic() - started

    completed: dict[str, float] = {}

    def complete_all() -> None:
        for prompt_id in prompt_ids:
            control.complete_prompt(prompt_id)
            completed[prompt_id] = time.monotonic()

    await asyncio.to_thread(complete_all)
    await until(lambda: all(task.done() for task in tasks), 3 * round_seconds + 60, "every trigger's event")
    elapsed = time.monotonic() - started
    used = cpu_seconds() - cpu
    latencies = [arrived[prompt_id] - completed[prompt_id] for prompt_id in prompt_ids]
    return {
        "latencies": latencies,
        "events": events,
        "first_round": first_round,
        "elapsed": elapsed,
        "cpu": used,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    """
    cli = parser(__doc__)
    cli.add_argument("--quick", action="store_true", help="400 triggers instead of 1,000")
    args = cli.parse_args(argv)
    count = 400 if args.quick else 1000
    logging.basicConfig(level=logging.WARNING)
    notices = NoticeCounter()
    gate_log = logging.getLogger("raia_provider._core.request_gate")
    gate_log.addHandler(notices)
    gate_log.setLevel(logging.INFO)
    logging.getLogger("raia_provider.triggers").setLevel(logging.WARNING)  # one line per event otherwise
    with emulator("--prompt-delay", "none") as running:
        from raia_provider.testing.emulator.client import EmulatorClient

        running.use_as_default_connection()
        from raia_provider.hooks.raia import RaiaHook

        hook = RaiaHook()
        try:
            prompt_ids = [hook.create_prompt(prompt=f"P2b question {i}").prompt_id for i in range(count)]
        finally:
            hook.close()
        os.environ["AIRFLOW_CONN_RAIA_DEFAULT"] = json.dumps(
            {
                "conn_type": "raia",
                "password": running.key,
                "host": running.base_url,
                "extra": {"requests_per_second": BUDGET},
            }
        )
        control = EmulatorClient(running.origin)
        try:
            control.configure(rate_limit=BUDGET)
            control.clear_requests()
            measured = asyncio.run(measure(prompt_ids, control))
            polls = control.requests(method="GET", path=POLL_PATH)
        finally:
            control.close()

    out = Report(args.json)
    throttled = sum(1 for r in polls if r.status == 429)
    per_trigger: dict[str, list[float]] = defaultdict(list)
    for r in polls:
        per_trigger[r.path.split("/")[3]].append(r.timestamp)
    gaps = [b - a for times in per_trigger.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
    latencies = measured["latencies"]
    bound = LATENCY_FACTOR * count / BUDGET
    where = f"{count} triggers at a {POLL_INTERVAL:g} s interval, budget and emulator limit {BUDGET:g} requests/s"
    out.add(
        Figure(
            "P2b",
            "429 answers, share of polls",
            100 * throttled / len(polls) if polls else float("nan"),
            "%",
            THROTTLED_BOUND_PERCENT,
            detail=f"{where}; {throttled} of {len(polls)} polls (emulator request log, whole run)",
        )
    )
    out.add(
        Figure(
            "P2b",
            "slowest answer after its prompt completed",
            max(latencies),
            "s",
            bound,
            detail=f"goal {LATENCY_FACTOR:g} x ({count} / {BUDGET:g}) s; median {statistics.median(latencies):.1f} s",
        )
    )
    out.add(
        Figure(
            "P2b",
            "interval between one trigger's polls (mean)",
            statistics.mean(gaps) if gaps else float("nan"),
            "s",
            detail=f"poll_interval {POLL_INTERVAL:g} s, stretched by the budget to about {count / BUDGET:g} s; "
            f"first round {measured['first_round']:.1f} s",
        )
    )
    out.add(Figure("P2b", "spread notices logged", notices.count, "lines", 1))
    out.add(
        Figure(
            "P2b",
            "CPU",
            100 * measured["cpu"] / measured["elapsed"],
            "% of a core",
            detail=f"this process over the {measured['elapsed']:.0f} s run ({len(polls)} polls)",
        )
    )
    succeeded = sum(1 for events in measured["events"].values() if [event["status"] for event in events] == ["success"])
    out.add(
        Figure(
            "P2b",
            "triggers with exactly one success event",
            100 * succeeded / count,
            "%",
            100,
            goal="min",
            detail=f"{succeeded} of {count}",
        )
    )
    out.note(f"pid {os.getpid()}; Python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    out.write()


if __name__ == "__main__":
    main()
