"""P3: importing each raia operator, sensor or trigger module costs at most 1.2x importing HttpOperator.

How: the modules are found by globbing ``raia_provider/operators``, ``sensors`` and ``triggers`` (files
starting with ``_`` skipped), so new modules are measured without editing this script. The reference is
``from airflow.providers.http.operators.http import HttpOperator``. Two measurements, both in processes of
this interpreter, timing only the import itself (``time.perf_counter`` around ``importlib.import_module``
inside the child, printed back):

* **cold** (the goal): a fresh process per import with nothing but the interpreter's start-up modules
  loaded, so every module pays Airflow's own import (``airflow.sdk``, about 3.5 s) as a DAG file does.
  ``--repetitions`` (3; 1 with ``--quick``) fresh processes per module, one at a time (``--jobs``), in
  shuffled rounds so a drift in machine load spreads over all modules; the median counts. The child also
  reports the import's CPU time (``time.process_time``), which a busy machine does not inflate. Every
  sample pays Airflow's import, so the default run takes about two minutes on an idle 2-core machine
  (under a minute with ``--quick``); two at a time there doubled each import's time and saved nothing.
* **own** (for comparison): ``airflow.sdk`` already imported, so only what the module adds is timed. One
  process imports ``airflow.sdk`` and forks a child per measurement (each starts from the same state);
  ``--own-repetitions`` (5; 3 with ``--quick``) per module, median.

Figures: per module, cold import wall time / HttpOperator's (goal at most 1.2) and the worst of them; for
comparison, the worst CPU-time ratio, the worst own-cost ratio and HttpOperator's own times.

Run: ``.venv-airflow-3.3/bin/python benchmarks/p3_import_cost.py [--quick] [--json PATH]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _harness import Figure, Report, parser

RATIO_BOUND = 1.2
REFERENCE = "airflow.providers.http.operators.http"
REFERENCE_ATTRIBUTE = "HttpOperator"
PACKAGES = ("raia_provider.operators", "raia_provider.sensors", "raia_provider.triggers")

# A fresh interpreter: time one import, print wall and CPU seconds, leave without the slow teardown.
COLD_CHILD = """
import importlib, os, sys, time
name, attribute = sys.argv[1], sys.argv[2]
started, cpu_started = time.perf_counter(), time.process_time()
module = importlib.import_module(name)
if attribute:
    getattr(module, attribute)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
sys.stdout.write(f"{elapsed!r} {cpu!r}\\n")
sys.stdout.flush()
os._exit(0)
"""

# Import airflow.sdk once, then fork a child per job; each child times one import from that same state.
OWN_SERVER = """
import importlib, json, os, sys, time
import airflow.sdk
for name, attribute in json.loads(sys.argv[1]):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        started = time.perf_counter()
        module = importlib.import_module(name)
        if attribute:
            getattr(module, attribute)
        os.write(write_end, repr(time.perf_counter() - started).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not answer:
        sys.exit(f"importing {name} failed in the forked child (status {status})")
    sys.stdout.write("MEASURED " + json.dumps([name, float(answer)]) + "\\n")
    sys.stdout.flush()
"""


def raia_modules() -> list[str]:
    """The operator-like modules of the provider, found on disk without importing them."""
    names = []
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"{package} is not importable from {sys.executable}")
        for location in spec.submodule_search_locations:
            names += [f"{package}.{path.stem}" for path in Path(location).glob("*.py") if not path.stem.startswith("_")]
    return sorted(names)


def attribute_of(name: str) -> str:
    """The attribute the import statement takes from module ``name`` (only the reference has one).

    :param name: the module.
    """
    return REFERENCE_ATTRIBUTE if name == REFERENCE else ""


def cold_import(name: str) -> tuple[float, float]:
    """Import ``name`` in a fresh process of this interpreter; return the import's wall and CPU seconds.

    :param name: the module.
    """
    completed = subprocess.run(
        [sys.executable, "-c", COLD_CHILD, name, attribute_of(name)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"importing {name} failed:\n{completed.stderr}")
    wall, cpu = completed.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def cold_imports(names: list[str], repetitions: int, jobs: int) -> dict[str, list[tuple[float, float]]]:
    """Time ``repetitions`` cold imports of every module, in shuffled rounds, ``jobs`` at a time.

    :param names: the modules.
    :param repetitions: fresh processes per module.
    :param jobs: how many run at once.
    """
    order: list[str] = []
    for _ in range(repetitions):
        order += random.sample(names, len(names))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        measured = list(pool.map(cold_import, order))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for name, value in zip(order, measured, strict=True):
        results[name].append(value)
    return results


def own_imports(names: list[str], repetitions: int) -> dict[str, list[float]]:
    """Time each module's import on top of an already imported ``airflow.sdk`` (forked children).

    :param names: the modules.
    :param repetitions: measurements per module.
    """
    jobs: list[tuple[str, str]] = []
    for _ in range(repetitions):
        jobs += [(name, attribute_of(name)) for name in random.sample(names, len(names))]
    completed = subprocess.run(
        [sys.executable, "-c", OWN_SERVER, json.dumps(jobs)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"the own-cost measurement failed:\n{completed.stderr}")
    results: dict[str, list[float]] = {name: [] for name in names}
    # Only the measurement lines: an import may print warnings of its own to stdout.
    for line in completed.stdout.splitlines():
        if not line.startswith("MEASURED "):
            continue
        name, seconds = json.loads(line.removeprefix("MEASURED "))
        results[name].append(seconds)
    return results


def ratios(medians: dict[str, float], modules: Iterable[str]) -> dict[str, float]:
    """Each module's median over the reference's.

    :param medians: median seconds per module, the reference included.
    :param modules: the raia modules.
    """
    return {name: medians[name] / medians[REFERENCE] for name in modules}


def worst(kind: str, by_module: dict[str, float], bound: float | None, detail: str) -> Figure:
    """The figure of the module with the highest ratio.

    :param kind: what was measured, e.g. ``cold import``.
    :param by_module: ratio per module.
    :param bound: the goal, or ``None`` for a comparison-only figure.
    :param detail: how it was measured.
    """
    name = max(by_module, key=lambda module: by_module[module])
    return Figure(
        "P3", f"{kind}, worst module vs HttpOperator", by_module[name], "x", bound, detail=f"{name}; {detail}"
    )


def arguments() -> argparse.Namespace:
    """Parse the command line (``--json``, ``--quick``, ``--repetitions``, ``--own-repetitions``, ``--jobs``)."""
    result = parser(__doc__)
    result.add_argument("--repetitions", type=int, help="fresh processes per module (default 3; 1 with --quick)")
    result.add_argument("--own-repetitions", type=int, help="own-cost measurements per module (5; 3 with --quick)")
    result.add_argument("--jobs", type=int, default=1, help="cold imports run at once (1; more only with idle cores)")
    result.add_argument("--quick", action="store_true", help="a smaller run: 1 cold and 3 own measurements per module")
    return result.parse_args()


def main() -> None:
    """Measure every module's cold and own import cost against HttpOperator's and report the ratios."""
    args = arguments()
    repetitions = args.repetitions or (1 if args.quick else 3)
    own_repetitions = args.own_repetitions or (3 if args.quick else 5)
    report = Report(args.json)
    modules = raia_modules()
    names = [REFERENCE, *modules]
    report.note(f"{len(modules)} raia modules: {', '.join(modules)}")
    cold_runs = cold_imports(names, repetitions, args.jobs)
    cold = {name: statistics.median(wall for wall, _ in runs) for name, runs in cold_runs.items()}
    cold_cpu = {name: statistics.median(cpu for _, cpu in runs) for name, runs in cold_runs.items()}
    own = {name: statistics.median(values) for name, values in own_imports(names, own_repetitions).items()}
    for name in names:
        walls = sorted(wall for wall, _ in cold_runs[name])
        report.note(
            f"{name}: cold {cold[name]:.2f} s wall ({walls[0]:.2f}-{walls[-1]:.2f}), {cold_cpu[name]:.2f} s CPU; "
            f"own {own[name] * 1e3:.0f} ms (medians)"
        )
    cold_detail = f"wall time, fresh process, median of {repetitions}"
    cold_ratios = ratios(cold, modules)
    for name, ratio in cold_ratios.items():
        report.add(Figure("P3", f"cold import {name} vs HttpOperator", ratio, "x", RATIO_BOUND, detail=cold_detail))
    report.add(worst("cold import", cold_ratios, RATIO_BOUND, cold_detail))
    cpu_detail = f"CPU time of the same imports (load-proof), median of {repetitions}"
    report.add(worst("cold import CPU time", ratios(cold_cpu, modules), None, cpu_detail))
    own_detail = f"airflow.sdk pre-imported, forked child, median of {own_repetitions}"
    report.add(worst("own import", ratios(own, modules), None, own_detail))
    report.add(Figure("P3", "cold import HttpOperator", cold[REFERENCE], "s", detail="the reference, wall time"))
    report.add(Figure("P3", "own import HttpOperator", own[REFERENCE] * 1e3, "ms", detail="the reference"))
    report.write()


if __name__ == "__main__":
    main()
