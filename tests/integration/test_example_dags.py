"""The example DAGs, run by a real Airflow (``airflow dags test``) against the emulator on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from raia_provider.testing import RaiaEmulator, answer_for

pytestmark = [pytest.mark.integration, pytest.mark.airflow_cli]

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throw-away Airflow home with a migrated SQLite metadata DB, shared by this module's runs."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def run_dag(dag_id: str, env: dict[str, str], emulator: RaiaEmulator) -> subprocess.CompletedProcess[str]:
    env = {
        **env,
        "AIRFLOW_CONN_RAIA_DEFAULT": json.dumps(
            {"conn_type": "raia", "password": emulator.default_key, "host": emulator.base_url}
        ),
    }
    return subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id], env=env, capture_output=True, text=True, timeout=240
    )


def test_example_raia_prompt(airflow_env: dict[str, str], emulator: RaiaEmulator) -> None:
    done = run_dag("example_raia_prompt", airflow_env, emulator)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    expected, tokens = answer_for("Summarise our refund policy in one sentence.", emulator.default_agent.name)
    assert f"raia answered: {expected} ({tokens} tokens)" in output
    assert emulator.default_key not in output
    seen = [(r.method, r.path, r.status) for r in emulator.requests()]
    assert seen == [("GET", "/external/agents/by-api-key", 200), ("POST", "/external/prompts", 200)]
