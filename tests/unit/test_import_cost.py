"""DAG files are parsed constantly: importing the provider must do no I/O and pull in nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent(
    """
    import json, socket, sys
    import airflow.sdk  # what any DAG file imports anyway
    before = set(sys.modules)

    def no_network(*args, **kwargs):
        raise AssertionError("network I/O at import time")

    socket.socket.connect = no_network
    socket.create_connection = no_network
    socket.getaddrinfo = no_network
    import {module}
    print(json.dumps(sorted(set(sys.modules) - before)))
    """
)

HEAVY = (
    "requests",
    "httpx",
    "fastapi",
    "uvicorn",
    "raia_provider.testing",
    "raia_provider._core.sync_transport",
    "raia_provider._core.async_transport",
)


@pytest.mark.parametrize("module", ["raia_provider", "raia_provider.get_provider_info", "raia_provider.hooks.raia"])
def test_import_does_no_network_io_and_loads_no_transport(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, check=True
    )
    added = json.loads(done.stdout.strip().splitlines()[-1])
    heavy = [name for name in added if name.split(".")[0] in HEAVY or name in HEAVY]
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
