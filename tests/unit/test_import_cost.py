"""DAG files are parsed constantly: importing the provider must do no I/O and pull in nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent(
    """
    import importlib, json, socket, sys
    import airflow.sdk  # what any DAG file imports anyway

    def no_network(*args, **kwargs):
        raise AssertionError("network I/O at import time")

    socket.socket.connect = no_network
    socket.create_connection = no_network
    socket.getaddrinfo = no_network
    added = {{}}
    for module in {modules!r}:
        before = set(sys.modules)
        importlib.import_module(module)
        added[module] = sorted(set(sys.modules) - before)
    print(json.dumps(added))
    """
)

HEAVY = (
    "requests",
    "aiohttp",
    "httpx",
    "fastapi",
    "uvicorn",
    "raia_provider.testing",
    "raia_provider._core.sync_transport",
    "raia_provider._core.async_transport",
)


MODULES = [
    "raia_provider",
    "raia_provider.get_provider_info",
    "raia_provider.hooks.raia",
    "raia_provider.operators.prompt",
    "raia_provider.operators.message",
    "raia_provider.operators.conversation",
    "raia_provider.operators.files",
    "raia_provider.operators.webhook",
    "raia_provider.sensors.raia",
    "raia_provider.triggers.raia",
]


@pytest.fixture(scope="module")
def imported() -> dict[str, list[str]]:
    """What importing each module added to ``sys.modules``, in one fresh interpreter (imports in order)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=MODULES)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("module", MODULES)
def test_import_does_no_network_io_and_loads_no_transport(module: str, imported: dict[str, list[str]]) -> None:
    heavy = [name for name in imported[module] if name.split(".")[0] in HEAVY or name in HEAVY]
    assert heavy == [], f"importing {module} loaded {heavy}"


def test_get_provider_info_does_not_import_the_hook() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, raia_provider.get_provider_info as g; g.get_provider_info();"
            "print('raia_provider.hooks.raia' in sys.modules, 'airflow' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["False", "False"]
