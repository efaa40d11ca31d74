"""Pytest fixtures serving the raia emulator.

Load with ``pytest_plugins = ["raia_provider.testing.pytest_plugin"]`` in a ``conftest.py``.

* ``raia_emulator_server`` (session): one emulator for the whole session.
* ``raia_emulator`` (function): the same emulator, reset before the test — default agent only, initial
  knobs, no faults, prompts, uploads or logged requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from raia_provider.testing.emulator.server import RaiaEmulator


@pytest.fixture(scope="session")
def raia_emulator_server() -> Iterator[RaiaEmulator]:
    """One raia emulator on a free loopback port, for the whole test session."""
    from raia_provider.testing.emulator.server import RaiaEmulator

    with RaiaEmulator() as emulator:
        yield emulator


@pytest.fixture
def raia_emulator(raia_emulator_server: RaiaEmulator) -> RaiaEmulator:
    """The session's raia emulator, reset to its initial state before the test.

    :param raia_emulator_server: the session emulator.
    """
    raia_emulator_server.reset()
    return raia_emulator_server
