"""P1: RaiaBatchPromptOperator asks 1,000 prompts within 1.15x the rate-limit floor, losing and repeating none.

How: the emulator runs in its own process with 200 ms of latency on every request and a rate limit of
50 requests/s per agent (token bucket, burst 50). The floor is the requests needed divided by the rate
limit: 1,000 / 50 = 20 s. Measured, all against the same emulator in the same run:

1. the batch operator, ``prompt_mode="sync"`` (one ``POST /prompts`` per row), ``requests_per_second=50``,
   ``max_concurrency=32``: wall time of ``execute`` (reading the CSV, checkpointing, writing the output
   included) against the floor; lost rows (no ``completed`` line in the output) and duplicates (a prompt
   answered twice by the emulator, or a key twice in the output);
2. the same with ``prompt_mode="async"`` (``POST /prompts/async`` + polls through the same gate): its time
   and its request count per row, which is what decides between the two modes and whether a deferrable
   batch would pay (submitting alone takes rows / rate, the whole sync batch's time);
3. a plain sequential ``requests`` loop (one ``POST /prompts`` after another), on ``--sequential-rows``
   rows (100), scaled to 1,000;
4. ``RaiaPromptOperator`` mapped over ``--mapped-rows`` rows (50) under ``dag.test()`` in a fresh Airflow
   home (SQLite), scaled to 1,000; the one-off ``db migrate`` and DAG parsing are not counted.

Run: ``.venv-airflow-3.3/bin/python benchmarks/p1_batch.py [--quick] [--json PATH]``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from _harness import Figure, Report, RunningEmulator, emulator, parser

RATE_LIMIT = 50.0
LATENCY = 0.2
RATIO_BOUND = 1.15
TEMPLATE = "Write a one-line tagline for {{ product }} number {{ n }}"


class _TaskInstance:
    """What ``execute`` needs of a task instance outside Airflow: somewhere to push XCom."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def write_input(folder: Path, rows: int) -> Path:
    """A CSV of ``rows`` products to ask about.

    :param folder: where to write it.
    :param rows: how many rows.
    """
    path = folder / "products.csv"
    path.write_text("sku,product,n\n" + "".join(f"SKU{n:05d},gadget,{n}\n" for n in range(rows)))
    return path


def run_batch(running: RunningEmulator, source: Path, mode: str, folder: Path) -> dict[str, Any]:
    """Run the batch operator once; return its manifest, wall time and what the emulator saw.

    :param running: the emulator.
    :param source: the input CSV.
    :param mode: ``sync`` or ``async``.
    :param folder: where to write the output.
    """
    from raia_provider.operators.batch import RaiaBatchPromptOperator
    from raia_provider.testing.emulator.client import EmulatorClient

    control = EmulatorClient(running.origin)
    control.clear_requests()
    output = folder / f"answers-{mode}.jsonl"
    operator = RaiaBatchPromptOperator(
        task_id=f"batch_{mode}",
        input_path=str(source),
        key_field="sku",
        prompt_template=TEMPLATE,
        output_path=str(output),
        prompt_mode=mode,  # type: ignore[arg-type]
        max_concurrency=32,
        requests_per_second=RATE_LIMIT,
        poll_interval=0.5,
    )
    started = time.perf_counter()
    manifest = operator.execute({"ti": _TaskInstance()})  # type: ignore[typeddict-item]
    elapsed = time.perf_counter() - started
    path = "/external/prompts" if mode == "sync" else "/external/prompts/async"
    asked = [r.body["prompt"] for r in control.requests(method="POST", path=path) if r.status == 200]
    everything = control.requests()
    control.close()
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    keys = Counter(line["sku"] for line in lines)
    return {
        "manifest": manifest,
        "elapsed": elapsed,
        "lost": sum(1 for line in lines if line["status"] != "completed") + (manifest["rows"] - len(keys)),
        "duplicates": sum(count - 1 for count in Counter(asked).values() if count > 1)
        + sum(count - 1 for count in keys.values() if count > 1),
        "requests": len(everything),
        "throttled": sum(1 for r in everything if r.status == 429),
    }


def run_sequential(running: RunningEmulator, rows: int) -> float:
    """Seconds a plain ``requests`` loop takes for ``rows`` prompts, one after the other.

    :param running: the emulator.
    :param rows: how many prompts.
    """
    session = requests.Session()
    started = time.perf_counter()
    for n in range(rows):
        answer = session.post(
            running.base_url + "/prompts",
            json={"prompt": f"Write a one-line tagline for gadget number {n}"},
            headers={"Agent-Secret-Key": running.key},
            timeout=30,
        )
        answer.raise_for_status()
    session.close()
    return time.perf_counter() - started


_MAPPED_DAG = textwrap.dedent(
    """
    import pendulum
    from airflow.sdk import DAG
    from raia_provider.operators.prompt import RaiaPromptOperator

    with DAG("bench_mapped_prompts", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        RaiaPromptOperator.partial(task_id="ask").expand(
            prompt=[f"Write a one-line tagline for gadget number {n}" for n in range({rows})]
        )
    """
)

_MAPPED_RUNNER = textwrap.dedent(
    """
    import json, sys, time
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=sys.argv[1]).get_dag("bench_mapped_prompts")
    started = time.perf_counter()
    run = dag.test()
    elapsed = time.perf_counter() - started
    states = [str(ti.state) for ti in run.get_task_instances()]
    print("RESULT " + json.dumps({"elapsed": elapsed, "state": str(run.state), "tasks": len(states)}))
    """
)


def run_mapped(running: RunningEmulator, rows: int) -> dict[str, Any]:
    """Run ``RaiaPromptOperator`` mapped over ``rows`` prompts under ``dag.test()`` in a fresh Airflow home.

    :param running: the emulator.
    :param rows: how many mapped task instances.
    """
    home = Path(tempfile.mkdtemp(prefix="raia-bench-mapped-"))
    dags = home / "dags"
    dags.mkdir()
    (dags / "bench_mapped.py").write_text(_MAPPED_DAG.replace("{rows}", str(rows)))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW_CONN_RAIA_DEFAULT": json.dumps(
            {"conn_type": "raia", "password": running.key, "host": running.base_url}
        ),
    }
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-c", _MAPPED_RUNNER, str(dags)], env=env, capture_output=True, text=True, timeout=1800
    )
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        raise SystemExit(f"the mapped run failed:\n{(done.stdout + done.stderr)[-3000:]}")
    outcome: dict[str, Any] = json.loads(results[-1].removeprefix("RESULT "))
    if outcome["state"] != "success" or outcome["tasks"] != rows:
        raise SystemExit(f"the mapped run did not succeed: {outcome}")
    return outcome


def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--rows", type=int, default=1000, help="rows in the batch (1000)")
    arguments.add_argument("--sequential-rows", type=int, default=100, help="rows for the sequential loop (100)")
    arguments.add_argument("--mapped-rows", type=int, default=50, help="mapped task instances (50)")
    arguments.add_argument("--quick", action="store_true", help="200 rows, 25 sequential, 20 mapped")
    options = arguments.parse_args()
    if options.quick:
        options.rows, options.sequential_rows, options.mapped_rows = 200, 25, 20
    report = Report(options.json)
    rows = options.rows
    floor = rows / RATE_LIMIT
    folder = Path(tempfile.mkdtemp(prefix="raia-bench-batch-"))
    source = write_input(folder, rows)
    report.note(
        f"{rows} prompts, emulator latency {LATENCY * 1000:.0f} ms, rate limit {RATE_LIMIT:g} requests/s: "
        f"floor {floor:.1f} s"
    )
    with emulator("--latency", str(LATENCY), "--rate-limit", str(RATE_LIMIT), "--prompt-delay", "0.5") as running:
        running.use_as_default_connection()
        sync = run_batch(running, source, "sync", folder)
        report.add(
            Figure(
                "P1",
                "batch (sync prompts) time / floor",
                sync["elapsed"] / floor,
                "x",
                RATIO_BOUND,
                detail=f"{sync['elapsed']:.1f} s for {rows} rows, floor {floor:.1f} s",
            )
        )
        report.add(Figure("P1", "batch rows lost", sync["lost"], "rows", 0))
        report.add(Figure("P1", "batch rows duplicated", sync["duplicates"], "rows", 0))
        report.note(
            f"sync batch: {sync['requests']} requests ({sync['throttled']} answered 429), "
            f"{sync['manifest']['total_tokens']} tokens, manifest {sync['manifest']}"
        )

        asynchronous = run_batch(running, source, "async", folder)
        report.add(
            Figure(
                "P1",
                "batch (async prompts + polling) time / floor",
                asynchronous["elapsed"] / floor,
                "x",
                detail=f"{asynchronous['elapsed']:.1f} s; shown for the choice of mode",
            )
        )
        report.add(
            Figure(
                "P1",
                "async prompts: requests per row",
                asynchronous["requests"] / rows,
                "requests",
                detail=f"sync: {sync['requests'] / rows:.2f}; lost {asynchronous['lost']}, "
                f"duplicated {asynchronous['duplicates']}",
            )
        )
        report.note(
            f"a deferrable batch would hold its worker slot for the submissions alone: at least {floor:.1f} s "
            f"(rows / rate), which is already the whole sync batch ({sync['elapsed']:.1f} s)"
        )

        sequential = run_sequential(running, options.sequential_rows)
        scaled = sequential / options.sequential_rows * rows
        report.add(
            Figure(
                "P1",
                "plain sequential requests loop, scaled / floor",
                scaled / floor,
                "x",
                detail=f"{sequential:.1f} s for {options.sequential_rows} rows -> {scaled:.0f} s for {rows}",
            )
        )
        report.add(Figure("P1", "batch speed-up over the sequential loop", scaled / sync["elapsed"], "x"))

        mapped = run_mapped(running, options.mapped_rows)
        mapped_scaled = mapped["elapsed"] / options.mapped_rows * rows
        report.add(
            Figure(
                "P1",
                "mapped RaiaPromptOperator (dag.test), scaled / floor",
                mapped_scaled / floor,
                "x",
                detail=f"{mapped['elapsed']:.1f} s for {options.mapped_rows} task instances -> "
                f"{mapped_scaled:.0f} s for {rows}",
            )
        )
        report.add(Figure("P1", "batch speed-up over mapped tasks", mapped_scaled / sync["elapsed"], "x"))
    report.write()


if __name__ == "__main__":
    main()
