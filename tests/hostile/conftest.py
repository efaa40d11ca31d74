"""Fixtures for the hostile-server tests: servers started and closed per test, a connection to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from raia_provider._core import clock
from raia_provider.hooks.raia import RaiaHook
from tests.conftest import TEST_KEY
from tests.hostile.cases import LIMIT
from tests.hostile.servers import Behaviour, HostileServer

#: Every hostile test's hooks: loopback connects at once; half a second is the whole answer's budget.
CONNECT_TIMEOUT = 0.25
READ_TIMEOUT = 0.25


@pytest.fixture
def serve() -> Iterator[Callable[..., HostileServer]]:
    """Start a hostile server (``serve(behaviour, host="127.0.0.1")``); all are closed after the test."""
    started: list[HostileServer] = []

    def start(behaviour: Behaviour, host: str = "127.0.0.1") -> HostileServer:
        server = HostileServer(behaviour, host)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def point_at(set_connection: Callable[..., None]) -> Callable[[HostileServer], None]:
    """Make ``raia_default`` a connection to ``server``, with the recognisable test key."""
    return lambda server: set_connection(key=TEST_KEY, host=server.base_url)


@pytest.fixture(autouse=True)
def quick_hooks(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Hooks built by operators get short timeouts and the tests' body limit; backoffs are recorded, not waited."""
    defaults = dict(RaiaHook.__init__.__kwdefaults__ or {})
    defaults.update(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, max_response_bytes=LIMIT)
    monkeypatch.setattr(RaiaHook.__init__, "__kwdefaults__", defaults)
    waits: list[float] = []

    async def asleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(clock, "sleep", waits.append)
    monkeypatch.setattr(clock, "asleep", asleep)
    return waits
