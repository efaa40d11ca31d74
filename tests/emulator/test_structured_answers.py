"""An agent with an output JSON Schema: its profile, the JSON it answers (checked with ``jsonschema``), the
``json_answers`` knob and the per-prompt markers, over real sockets (and the generator on its own)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from raia_provider.testing import (
    FAIL_MARKER,
    INVALID_JSON_MARKER,
    SCHEMA_MISMATCH_MARKER,
    EmulatorClient,
    RaiaEmulator,
    answer_for,
)
from raia_provider.testing.emulator.answers import FAILURE_MESSAGE, count_tokens, json_answer
from raia_provider.testing.emulator.config import EmulatorConfig
from raia_provider.testing.emulator.structured_answers import instance_for, invalid_json, mismatched

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]

INVOICE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string", "minLength": 20},
        "issued_on": {"type": "string", "format": "date"},
        "total": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
        "line_count": {"type": "integer", "minimum": 1, "maximum": 3},
        "paid": {"type": "boolean"},
        "currency": {"enum": ["EUR", "USD"]},
        "customer": {"$ref": "#/$defs/customer"},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}, "minItems": 1},
        "note": {"type": ["string", "null"], "maxLength": 5},
        "kind": {"const": "invoice"},
    },
    "required": ["invoice_number", "issued_on", "total", "customer", "due"],
    "$defs": {
        "customer": {
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email"},
                "id": {"type": "string", "format": "uuid"},
                "since": {"type": "string", "format": "date-time"},
                "site": {"type": "string", "format": "uri"},
            },
            "required": ["email"],
        },
        "line": {
            "allOf": [
                {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]},
                {"properties": {"qty": {"type": "integer", "exclusiveMaximum": 2}}, "required": ["qty"]},
            ]
        },
    },
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "invoice": INVOICE,
    "flat": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
    "root-array": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}},
    "root-enum": {"type": "string", "enum": ["positive", "negative"]},
    "alternatives": {
        "type": "object",
        "properties": {
            "value": {"anyOf": [{"type": "integer", "minimum": 100}, {"type": "string"}]},
            "shape": {"oneOf": [{"$ref": "#/definitions/circle"}, {"type": "null"}]},
        },
        "required": ["value", "shape"],
        "definitions": {"circle": {"type": "object", "properties": {"r": {"type": "number", "minimum": 5}}}},
    },
    "recursive-tree": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"label": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["label"],
    },
    "untyped": {"properties": {"tags": {"items": {"type": "string"}}, "score": {"type": "integer", "maximum": -5}}},
}
PROMPTS = ["Extract the invoice", "Second document, please", ""]


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _valid(schema: dict[str, Any], text: str) -> bool:
    return _validator(schema).is_valid(json.loads(text))


def _headers(key: str) -> dict[str, str]:
    return {"Agent-Secret-Key": key}


@pytest.fixture
def structured(raia_emulator: RaiaEmulator) -> str:
    """The key of an agent answering with :data:`INVOICE`."""
    agent = raia_emulator.add_agent(key="structured-agent-key", name="Extractor", output_json_schema=INVOICE)
    return agent.key


# -- the generator ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("name", SCHEMAS)
def test_generated_json_validates_and_is_deterministic(name: str, prompt: str) -> None:
    schema = SCHEMAS[name]
    value = instance_for(schema, prompt)

    _validator(schema).validate(value)
    assert instance_for(schema, prompt) == value
    assert json_answer(schema, prompt) == json.dumps(value)


def test_generated_objects_carry_every_property_and_the_prompt_changes_the_values() -> None:
    first, second = instance_for(INVOICE, "one"), instance_for(INVOICE, "two")

    assert list(first) == [*INVOICE["properties"], "due"]
    assert (first["currency"], first["kind"], first["paid"]) == ("EUR", "invoice", True)
    assert first["invoice_number"].startswith("invoice_number-")
    assert first["invoice_number"] != second["invoice_number"]
    assert set(first["customer"]) == {"email", "id", "since", "site"}
    assert [set(line) for line in first["lines"]] == [{"sku", "qty"}]


@pytest.mark.parametrize("name", SCHEMAS)
def test_mismatched_json_is_json_that_breaks_the_schema(name: str) -> None:
    schema = SCHEMAS[name]
    text = json.dumps(mismatched(schema, "p"))

    assert not _valid(schema, text)


@pytest.mark.parametrize("name", SCHEMAS)
def test_invalid_json_is_not_json(name: str) -> None:
    value = instance_for(SCHEMAS[name], "p")

    with pytest.raises(json.JSONDecodeError):
        json.loads(invalid_json(value))
    if isinstance(value, dict):
        assert invalid_json(value) == json.dumps(value)[:-1]


def test_a_required_property_is_what_a_mismatch_leaves_out() -> None:
    assert "invoice_number" not in mismatched(INVOICE, "p")
    assert set(mismatched(INVOICE, "p")) == set(instance_for(INVOICE, "p")) - {"invoice_number"}


# -- the profile ------------------------------------------------------------------------------------------


def test_the_profile_reports_the_schema_as_a_json_string(api: Api, structured: str, validate_against: Validate) -> None:
    plain = api.call("GET", "/agents/by-api-key").json()
    profile = api.call("GET", "/agents/by-api-key", key=structured).json()

    assert (plain["aiConfig"]["isOutputJsonSchemaEnabled"], plain["aiConfig"]["outputJsonSchema"]) == (False, "")
    assert profile["aiConfig"]["isOutputJsonSchemaEnabled"] is True
    assert isinstance(profile["aiConfig"]["outputJsonSchema"], str)
    assert json.loads(profile["aiConfig"]["outputJsonSchema"]) == INVOICE
    validate_against(profile, "GetAgentByApiKeyResponseDTO")


# -- answers over HTTP ------------------------------------------------------------------------------------


def test_sync_and_async_prompts_answer_valid_json(raia_emulator: RaiaEmulator, api: Api, structured: str) -> None:
    raia_emulator.configure(prompt_delay=0)
    sync = api.call("POST", "/prompts", json={"prompt": "Extract"}, key=structured).json()
    prompt_id = api.create("Extract", key=structured)
    polled = api.poll(prompt_id, key=structured).json()

    expected = json.dumps(instance_for(INVOICE, "Extract"))
    assert (
        sync
        == polled
        == {
            "status": "completed",
            "totalTokens": count_tokens("Extract", expected),
            "response": expected,
            "error": None,
        }
    )
    assert _valid(INVOICE, sync["response"])
    assert answer_for("Extract", "Extractor", output_schema=INVOICE) == (expected, sync["totalTokens"])


def test_a_held_prompt_completed_without_a_response_answers_json(
    raia_emulator: RaiaEmulator, api: Api, structured: str
) -> None:
    raia_emulator.configure(prompt_delay=None)
    prompt_id = api.create("Held", key=structured)
    with EmulatorClient(raia_emulator.url) as control:
        completed = control.complete_prompt(prompt_id)

    assert completed.outcome is not None
    assert completed.outcome.response == json.dumps(instance_for(INVOICE, "Held"))
    assert completed.output_json_schema == INVOICE
    assert api.poll(prompt_id, key=structured).json()["response"] == completed.outcome.response


def test_conversation_messages_answer_valid_json(raia_emulator: RaiaEmulator, api: Api, structured: str) -> None:
    raia_emulator.configure(message_delay=0)
    user = api.user(key=structured)
    conversation = api.call("POST", "/conversations", json={"conversationUserId": user["id"]}, key=structured).json()
    path = f"/conversations/{conversation['id']}/messages"

    sync = api.call("POST", path, json={"message": "Extract"}, key=structured).json()
    question = api.call("POST", f"{path}/async", json={"message": "Again"}, key=structured).json()
    polled = api.call("GET", f"{path}/{question['id']}/response-on", key=structured).json()

    assert sync["message"] == json.dumps(instance_for(INVOICE, "Extract"))
    assert polled["message"]["message"] == json.dumps(instance_for(INVOICE, "Again"))
    assert _valid(INVOICE, sync["message"])
    assert _valid(INVOICE, polled["message"]["message"])


@pytest.mark.parametrize("knob", ["valid", "invalid", "mismatch"])
def test_the_json_answers_knob(raia_emulator: RaiaEmulator, api: Api, structured: str, knob: str) -> None:
    with EmulatorClient(raia_emulator.url) as control:
        assert control.configure(json_answers=knob).json_answers == knob  # type: ignore[typeddict-item]
    response = api.call("POST", "/prompts", json={"prompt": "Extract"}, key=structured).json()["response"]
    plain = api.prompt("Extract").json()["response"]

    assert plain == "[Test Agent] answer to: Extract"  # an agent without a schema answers text
    if knob == "invalid":
        with pytest.raises(json.JSONDecodeError):
            json.loads(response)
        assert response == json.dumps(instance_for(INVOICE, "Extract"))[:-1]
    else:
        assert _valid(INVOICE, response) is (knob == "valid")


def test_markers_make_single_rows_of_a_batch_bad(raia_emulator: RaiaEmulator, api: Api, structured: str) -> None:
    prompts = ["row 1", f"row 2 {INVALID_JSON_MARKER}", "row 3", f"{SCHEMA_MISMATCH_MARKER} row 4", "row 5"]
    raia_emulator.configure(prompt_delay=0)

    ids = [api.create(prompt, key=structured) for prompt in prompts]
    answers = [api.poll(prompt_id, key=structured).json()["response"] for prompt_id in ids]

    def verdict(text: str) -> str:
        try:
            return "valid" if _valid(INVOICE, text) else "mismatch"
        except json.JSONDecodeError:
            return "invalid"

    assert [verdict(answer) for answer in answers] == ["valid", "invalid", "valid", "mismatch", "valid"]
    assert "invoice_number" not in json.loads(answers[3])


def test_markers_win_over_the_knob_and_the_fail_marker_wins_over_both(
    raia_emulator: RaiaEmulator, api: Api, structured: str
) -> None:
    raia_emulator.configure(json_answers="invalid")
    mismatch = api.call("POST", "/prompts", json={"prompt": f"x {SCHEMA_MISMATCH_MARKER}"}, key=structured).json()
    failed = api.call("POST", "/prompts", json={"prompt": f"{FAIL_MARKER} {INVALID_JSON_MARKER}"}, key=structured)
    plain = api.prompt(f"text {INVALID_JSON_MARKER}").json()

    assert not _valid(INVOICE, mismatch["response"])
    assert (failed.json()["status"], failed.json()["error"]) == ("failed", FAILURE_MESSAGE)
    assert plain["response"] == f"[Test Agent] answer to: text {INVALID_JSON_MARKER}"  # no schema: markers inert


# -- setting the schema at run time, and reset ------------------------------------------------------------


def test_set_and_clear_an_agents_schema_in_process_and_remotely(raia_emulator: RaiaEmulator, api: Api) -> None:
    schema = {"type": "object", "properties": {"sentiment": {"enum": ["positive", "negative"]}}}
    updated = raia_emulator.set_agent_output_schema(raia_emulator.default_key, schema)

    assert updated.output_json_schema == schema == raia_emulator.default_agent.output_json_schema
    assert api.prompt("Great!").json()["response"] == '{"sentiment": "positive"}'

    with EmulatorClient(raia_emulator.url) as control:
        cleared = control.set_agent_output_schema(raia_emulator.default_agent.id, None)
        assert cleared.output_json_schema is None
        assert api.prompt("Great!").json()["response"] == "[Test Agent] answer to: Great!"
        remote = control.add_agent(key="remote-structured-key", name="Remote", output_json_schema={"type": "integer"})
        assert remote.output_json_schema == {"type": "integer"}
        assert isinstance(json.loads(api.prompt("n", key=remote.key).json()["response"]), int)
        with pytest.raises(KeyError):
            control.set_agent_output_schema("no-such-agent", schema)
        with pytest.raises(ValueError, match="not a valid JSON Schema"):
            control.set_agent_output_schema(remote.id, {"type": "bogus"})
        with pytest.raises(ValueError, match="not a valid JSON Schema"):
            control.add_agent(name="Bad", output_json_schema={"required": "name"})
    with pytest.raises(ValueError, match="JSON Schema object"):
        raia_emulator.set_agent_output_schema(raia_emulator.default_key, ["not", "an", "object"])  # type: ignore[arg-type]


def test_reset_restores_the_default_agent_and_the_knob(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.set_agent_output_schema(raia_emulator.default_agent.id, {"type": "boolean"})
    raia_emulator.configure(json_answers="mismatch")

    raia_emulator.reset()

    assert raia_emulator.default_agent.output_json_schema is None
    assert raia_emulator.config.json_answers == "valid"
    profile = api.call("GET", "/agents/by-api-key").json()
    assert profile["aiConfig"]["isOutputJsonSchemaEnabled"] is False
    assert api.prompt("Hi").json()["response"] == "[Test Agent] answer to: Hi"


def test_the_knob_is_checked_and_can_be_set_at_start() -> None:
    with pytest.raises(ValueError, match="json_answers"):
        EmulatorConfig(json_answers="sometimes")  # type: ignore[arg-type]
    with RaiaEmulator(key="k", json_answers="mismatch") as emulator:
        assert emulator.config.json_answers == "mismatch"
        emulator.configure(json_answers="valid")
        emulator.reset()
        assert emulator.config.json_answers == "mismatch"


def test_the_same_question_about_different_files_gets_different_answers() -> None:
    from raia_provider.testing import ArrivedFile

    first = ArrivedFile("a.pdf", 10, "a" * 64)
    second = ArrivedFile("b.pdf", 10, "b" * 64)
    one = json.loads(json_answer(INVOICE, "Extract it", files=[first]))
    other = json.loads(json_answer(INVOICE, "Extract it", files=[second]))

    assert one != other
    assert one == instance_for(INVOICE, "Extract it\x00" + "a" * 64)
    assert json.loads(json_answer(INVOICE, "Extract it", files=[ArrivedFile("c.pdf")])) == instance_for(
        INVOICE, "Extract it"
    )  # a file that never arrived tells the agent nothing
