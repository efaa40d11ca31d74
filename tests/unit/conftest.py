"""Fixtures shared by the HTTP-layer unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from tests.conftest import UNIT_BASE_URL
from tests.unit.payloads import AGENT_PROFILE, PROFILE_PATH


@pytest.fixture
def text_agent(mocked: responses.RequestsMock) -> Iterator[None]:
    """The agent's profile has no output JSON schema, so a prompt that follows it keeps the answer as text.

    Registered for tests whose operator may read the profile (a prompt with no ``output_format``); removed
    again before ``mocked`` checks that every other registered answer was asked for.
    """
    mocked.get(UNIT_BASE_URL + PROFILE_PATH, json=AGENT_PROFILE)
    yield
    mocked.remove(responses.GET, UNIT_BASE_URL + PROFILE_PATH)


@pytest.fixture
def plain_agent() -> Iterator[responses.RequestsMock]:
    """The agent's profile (no output JSON schema) for a batch, which reads it once, blocking, after its first
    pass; the rows' own requests go through aiohttp and its mock."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(UNIT_BASE_URL + PROFILE_PATH, json=AGENT_PROFILE)
        yield rsps
