"""A base URL without ``/external`` (the likeliest emulator mistake) says so, on both transports (issue 16, 1).

The emulator serves raia's API under ``/external``; anything else answers its framework's 404
(``{"detail": "Not Found"}``), not raia's error shape, as a proxy or another service at the wrong address would.
"""

from __future__ import annotations

import json

import pytest

from raia_provider.exceptions import RaiaNotFoundError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operations.prompts import GetPromptResponse
from raia_provider.testing import RaiaEmulator
from tests.integration.conftest import FAST_RETRIES

pytestmark = pytest.mark.integration

ADVICE = "Check the connection's base URL"


@pytest.fixture
def origin_only(emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """``raia_default`` pointing at the emulator's origin, ``/external`` left out."""
    origin = emulator.base_url.removesuffix("/external")
    conn = {"conn_type": "raia", "password": emulator.default_key, "host": origin}
    monkeypatch.setenv("AIRFLOW_CONN_RAIA_DEFAULT", json.dumps(conn))
    return origin


def test_a_prompt_to_a_base_url_without_external_names_the_url_and_the_fix(
    origin_only: str, emulator: RaiaEmulator
) -> None:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    with pytest.raises(RaiaNotFoundError) as raised:
        hook.process_prompt(prompt="hello")
    text = str(raised.value)
    assert f"at {origin_only}/prompts:" in text
    assert "the address itself was not found" in text
    assert ADVICE in text
    assert "must end in /external" in text
    assert emulator.default_key not in text
    hook.close()


async def test_an_async_read_from_a_base_url_without_external_says_the_answer_is_not_raias(
    origin_only: str, emulator: RaiaEmulator
) -> None:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    try:
        with pytest.raises(RaiaNotFoundError) as raised:
            await hook.asend(GetPromptResponse(prompt_id="3f1c2a9e-0000-4000-8000-000000000001"))
    finally:
        await hook.aclose()
    text = str(raised.value)
    assert f"at {origin_only}/prompts/3f1c2a9e-0000-4000-8000-000000000001/response-on:" in text
    assert "not raia's error shape" in text
    assert ADVICE in text
    assert emulator.default_key not in text


def test_a_missing_entity_at_the_right_base_url_still_says_the_entity_is_missing(emulator: RaiaEmulator) -> None:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    with pytest.raises(RaiaNotFoundError) as raised:
        hook.send(GetPromptResponse(prompt_id="3f1c2a9e-0000-4000-8000-000000000001"))
    hook.close()
    assert "entity does not exist for this agent" in str(raised.value)
    assert ADVICE not in str(raised.value)
