"""The end-to-end suite's fixtures: one real Airflow for the session, the raia emulator as the raia service."""

from __future__ import annotations

from collections.abc import Iterator

import airflow
import httpx
import pytest

from raia_provider.testing import RaiaEmulator
from tests.e2e.required import E2E_RUNS_HERE
from tests.e2e.stack import AirflowStack

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end suite proves the provider in the Airflow we ship for (3.3); the floor runs the rest."""
    if not E2E_RUNS_HERE:
        skip = pytest.mark.skip(reason=f"the end-to-end suite runs on Airflow 3.3, not {airflow.__version__}")
        for item in items:
            if "tests/e2e/" in item.nodeid:
                item.add_marker(skip)


_failures: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed:  # type: ignore[attr-defined]
        _failures.append(item.nodeid)
    return report


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    """Airflow's api-server, scheduler, dag-processor and triggerer, running for the whole session."""
    stack = AirflowStack(home=tmp_path_factory.mktemp("airflow-e2e"))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop(failed=bool(_failures))


@pytest.fixture(scope="session")
def api(stack: AirflowStack) -> Iterator[httpx.Client]:
    """Airflow's REST API (``/api/v2``), authenticated."""
    with stack.client() as client:
        yield client


@pytest.fixture
def raia(raia_emulator: RaiaEmulator, api: httpx.Client) -> RaiaEmulator:
    """The emulator, reset, with the ``raia_default`` connection created through Airflow's REST API."""
    api.delete("/connections/raia_default")
    created = api.post(
        "/connections",
        json={
            "connection_id": "raia_default",
            "conn_type": "raia",
            "host": raia_emulator.base_url,
            "password": raia_emulator.default_key,
            "extra": '{"region": "us"}',
        },
    )
    assert created.status_code == 201, created.text
    return raia_emulator
