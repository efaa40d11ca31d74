"""A real Airflow on loopback for the end-to-end suite: api-server, scheduler, dag-processor and triggerer.

Each component is its own process group in a temporary ``AIRFLOW_HOME`` with an embedded SQLite DB and the
LocalExecutor; every port is a free loopback port, and the log servers are off (``--skip-serve-logs``) so
nothing listens beyond loopback. :meth:`AirflowStack.stop` ends every group, also when a test failed; the
components' logs stay in ``home/component-logs`` for the artifacts.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).parents[2]
EXAMPLE_DAGS = REPO / "example_dags"
#: Where the components' logs are copied when a test fails (CI keeps this folder as an artifact).
ARTIFACTS = REPO / "test-artifacts" / "e2e"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class AirflowStack:
    """The components of one Airflow installation, started and stopped together.

    :param home: the ``AIRFLOW_HOME`` (deleted by :meth:`stop` unless ``keep``).
    :param extra_env: more environment for every component (e.g. an ``AIRFLOW_CONN_*``).
    """

    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The api-server's (and UI's) base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs(self) -> Path:
        """Where each component writes its stdout and stderr."""
        return self.home / "component-logs"

    def env(self) -> dict[str, str]:
        """The environment every component and CLI call shares."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_", "AIRFLOW__"))}
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLE_DAGS),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="2",
            # Scheduled example DAGs (the nightly batch, the knowledge refresh) must not start on their own and
            # mix their requests into a test's; each test unpauses the DAG it triggers.
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__CORE__TEST_CONNECTION="Enabled",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{self.home}/airflow.db",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.url,
            AIRFLOW__API_AUTH__JWT_SECRET=self._secret("jwt"),
            AIRFLOW__API__SECRET_KEY=self._secret("api"),
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="5",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
            AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="1",
            # A killed triggerer's triggers go to a new one once it has missed heartbeats this long.
            AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="5",
            # Connections and trigger kwargs are stored encrypted, as in any real deployment.
            AIRFLOW__CORE__FERNET_KEY=self._fernet_key(),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def _fernet_key(self) -> str:
        path = self.home / ".fernet-key"
        if not path.exists():
            from cryptography.fernet import Fernet

            path.write_text(Fernet.generate_key().decode())
        return path.read_text()

    def _secret(self, name: str) -> str:
        path = self.home / f".{name}-secret"
        if not path.exists():
            path.write_text(secrets.token_hex(16))
        return path.read_text()

    def airflow(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run one Airflow CLI command in this installation."""
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def start(self) -> None:
        """Migrate the DB and start every component; return once the API answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.airflow("db", "migrate", timeout=300)
        self.start_component("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.port))
        self.start_component("scheduler", "scheduler", "--skip-serve-logs")
        self.start_component("dag-processor", "dag-processor")
        self.start_component("triggerer", "triggerer", "--skip-serve-logs")
        wait_until(self._api_ready, timeout=180, what="the api-server to answer")

    def start_component(self, name: str, *args: str) -> None:
        """Start one component in its own process group, logging to ``logs/<name>.log``.

        :param name: the log file's name (a restarted component appends to it).
        :param args: the ``airflow`` sub-command and its flags.
        """
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() can end its children too
        )

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to a component's whole process group and wait for it to end.

        :param name: the component.
        :param sig: the signal; SIGKILL by default (a crash, not a shutdown).
        """
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self, *, failed: bool) -> None:
        """Stop every component (SIGTERM, then SIGKILL); keep the logs as artifacts if a test failed.

        :param failed: whether a test of the session failed.
        """
        for name in list(self.processes):
            try:
                self.kill(name, signal.SIGTERM)
            except Exception:  # a component that will not stop must not keep the others running
                self.kill(name, signal.SIGKILL)
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copytree(self.logs, ARTIFACTS / "component-logs", dirs_exist_ok=True)
            if (self.home / "logs").exists():
                shutil.copytree(self.home / "logs", ARTIFACTS / "task-logs", dirs_exist_ok=True)

    def _api_ready(self) -> bool:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {process.returncode}; see {self.logs / name}.log")
        try:
            return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def client(self) -> httpx.Client:
        """An HTTP client for Airflow's REST API, authenticated (all users are admins in this installation)."""
        token = httpx.get(f"{self.url}/auth/token", timeout=10).json()["access_token"]
        return httpx.Client(base_url=f"{self.url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30)
