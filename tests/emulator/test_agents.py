"""Contract tests of ``GET /external/agents/by-api-key``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import referencing.exceptions

from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]
RAW_SPEC = Path(__file__).resolve().parents[1] / "contract" / "raia-external-api.raw.openapi.json"


def test_profile_is_a_valid_agent_dto(raia_emulator: RaiaEmulator, api: Api, validate_against: Validate) -> None:
    response = api.call("GET", "/agents/by-api-key")

    assert response.status_code == 200
    profile = response.json()
    validate_against(profile, "GetAgentByApiKeyResponseDTO")
    assert profile["id"] == raia_emulator.default_agent.id
    assert profile["name"] == "Test Agent"


def test_profile_has_every_required_field_of_the_spec(api: Api) -> None:
    schemas = json.loads(RAW_SPEC.read_text())["components"]["schemas"]
    profile = api.call("GET", "/agents/by-api-key").json()

    assert set(schemas["GetAgentByApiKeyResponseDTO"]["required"]) <= set(profile)
    assert set(schemas["AIConfigResponseDTO"]["required"]) <= set(profile["aiConfig"])
    # The optional fields the provider reads are there too.
    assert {"description", "avatarUrl", "tags", "restrictDocumentsToOwnerOnly"} <= set(profile)


def test_unpatched_spec_cannot_validate_any_profile(api: Api) -> None:
    """Why conftest patches the spec: as published, its skill schemas reject every real profile."""
    components = json.loads(RAW_SPEC.read_text())["components"]
    schema = {"$ref": "#/components/schemas/GetAgentByApiKeyResponseDTO", "components": components}
    profile = api.call("GET", "/agents/by-api-key").json()

    # Defect 1: two skill schemas are referenced but not defined.
    with pytest.raises(referencing.exceptions.Unresolvable):
        jsonschema.Draft7Validator(schema).validate(profile)

    # Defect 2: even with them defined, an API skill matches several `oneOf` branches.
    base = components["schemas"]["BaseSkillResponseDTO"]
    components["schemas"]["DataRetentionSkillResponseDTO"] = base
    components["schemas"]["MsTeamsSkillResponseDTO"] = base
    with pytest.raises(jsonschema.ValidationError, match="is valid under each of"):
        jsonschema.Draft7Validator(schema).validate(profile)


def test_api_skill_carries_the_key_and_webhook_skill_is_complete(api: Api, validate_against: Validate) -> None:
    skills = {skill["systemName"]: skill for skill in api.call("GET", "/agents/by-api-key").json()["skills"]}

    assert skills["API"] == {"systemName": "API", "status": "active", "apiKey": api.key}
    validate_against(skills["API"], "APISkillResponseDTO")
    assert skills["WEBHOOK"]["webhooks"] == []
    assert {"name", "description"} <= set(skills["WEBHOOK"])
    validate_against(skills["WEBHOOK"], "WebhookSkillResponseDTO")


def test_each_agent_sees_its_own_profile(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="agent-b-key-000003", name="Second")

    mine = api.call("GET", "/agents/by-api-key").json()
    theirs = api.call("GET", "/agents/by-api-key", key=other.key).json()

    assert theirs["id"] == other.id != mine["id"]
    assert theirs["name"] == "Second"
    assert theirs["organizationId"] == mine["organizationId"]
    assert theirs["vectorStoreId"] != mine["vectorStoreId"]
    assert [s["apiKey"] for s in theirs["skills"] if s["systemName"] == "API"] == [other.key]
