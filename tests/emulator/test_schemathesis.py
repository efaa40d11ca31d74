"""Fuzz the emulator from raia's own OpenAPI documents with schemathesis.

Both the published spec and the older prompts-only revision are used, restricted to the operations the
emulator serves: every ``Agent-Secret-Key`` operation (44). Each document first goes through
``contract_spec()``, which fixes the spec's known defects and documents the statuses raia leaves out (see
``raia_provider/testing/emulator/contract.py``, one comment per fix):

* the ``null`` body of ``response-on`` (documented only outside ``content``);
* undocumented 400 (bad body or query), 404 (unknown id) and 429 (rate limit) responses;
* error DTOs typing ``name`` as ``object``; two undefined skill schemas; the skills ``oneOf`` no real
  profile can satisfy; the users body ``oneOf`` a user with two contacts cannot satisfy;
* lists declared as one object (agent files, conversation states) and ``/agents/users`` declaring the
  profile;
* non-blank required strings, E.164 phones and well-formed emails (unless skipped), non-negative amounts,
  integer pages (our class-validator reading).

Checks: schemathesis' defaults (``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance``, ``response_schema_conformance``, ``negative_data_rejection``,
``positive_data_acceptance``, ...), with these settings:

* negative (invalid) requests must get 400, or 404 for an id nothing has;
* positive (valid) requests must get 200, 201 or 204 — so each positive case starts from a reset emulator
  and :func:`_make_valid_references_real` points it at things that exist: ids in the path and in the body
  (users, conversations, questions, message files, agent files, states), ``files`` citing uploads really
  issued, a conversation in manual mode for ``send-manual-message``, existing limits to update or delete,
  an agent file for the list (which is 404 when empty), a known email for ``users/search`` (which needs
  one of its three optional parameters). A webhook's ``url`` becomes a public HTTPS URL: "public" cannot
  be stated in a schema;
* multipart (``agent-files/upload``): schemathesis builds the form itself; the emulator streams it like any
  upload. Its one required part is the binary ``file``; the boolean ``autoAddToVectorStore`` travels as
  ``true``/``false`` (any case), which the emulator accepts.
* auth: every accepted request is resent without the key and with a wrong one, and both must get raia's
  403 body (our own probe, see below).

Excluded:

* ``unsupported_method`` wants 405 for undeclared methods. raia is NestJS on Express, which answers 404
  ``Cannot TRACE /path`` — the emulator follows raia, not the check.
* ``ignored_auth`` does what our auth probe does, but the schemathesis on the Airflow 3.1 floor (4.2)
  demands 401 where raia documents 403.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis

from raia_provider.testing.emulator.contract import SERVED_OPERATIONS, contract_spec
from raia_provider.testing.emulator.server import RaiaEmulator
from tests.emulator.fuzz_record import FuzzRecord

CONTRACT_DIR = Path(__file__).resolve().parents[1] / "contract"
# Per operation and mode; 44 operations must stay well under a minute on two cores.
MAX_EXAMPLES = 12
PUBLIC_WEBHOOK_URL = "https://hooks.example.com/raia"
# schemathesis 4.2 (the Airflow 3.1 floor's) coverage phase recurses forever on the two bodies whose
# phone/email rules are `anyOf` branches (users, conversations/start), and demands a 400 for an unknown
# query parameter (which the emulator ignores, like unknown body fields); its per-operation config does not
# combine with `include()`; its negative mode also counts an unknown query parameter as invalid data. So on
# schemathesis older than 4.32 (the version checked) the coverage phase is off and only valid (positive)
# cases are generated; the full run (both modes, both phases) happens on the current schemathesis.
_CURRENT_SCHEMATHESIS = tuple(int(part) for part in version("schemathesis").split(".")[:2]) >= (4, 32)
_COVERAGE_PHASE = _CURRENT_SCHEMATHESIS
CONFIG = schemathesis.Config.from_dict(
    {
        # Security headers are not fuzzed: we send the real key, and _assert_auth_enforced probes auth.
        "generation": {
            "mode": "all" if _CURRENT_SCHEMATHESIS else "positive",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": _COVERAGE_PHASE}},
        "checks": {
            "negative_data_rejection": {"expected-statuses": [400, 404]},
            "positive_data_acceptance": {"expected-statuses": [200, 201, 204]},
            # Express answers 404, not 405, for a method a path does not serve (see module docstring).
            "unsupported_method": {"enabled": False},
            # Replaced by _assert_auth_enforced: schemathesis 4.2 (the Airflow 3.1 floor's) accepts only 401
            # here, while raia documents 403 for a missing or wrong key.
            "ignored_auth": {"enabled": False},
        },
    }
)
SERVED_PATHS = sorted({path for _, path in SERVED_OPERATIONS})
# What the fuzz tests sent; checked by the tests declared after them.
SEEN = FuzzRecord()
FUZZ_TESTS = {"test_fuzz_current_spec", "test_fuzz_older_prompts_spec"}
FORBIDDEN = {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}


def _schema(file_name: str) -> Any:
    spec = contract_spec(json.loads((CONTRACT_DIR / file_name).read_text(encoding="utf-8")))
    return schemathesis.openapi.from_dict(spec, config=CONFIG).include(path=SERVED_PATHS)


current_spec = _schema("raia-external-api.raw.openapi.json")
older_spec = _schema("openapi-prompts.json")


def _make_valid_references_real(case: Any, emulator: RaiaEmulator) -> None:
    """Point a schema-valid request at things that exist, so the server can accept it."""
    emulator.reset()
    agent, state = emulator.default_agent, emulator.state
    space = state.workspace
    path, method = case.operation.path, case.method.upper()
    body = case.body if isinstance(case.body, dict) else {}
    user = space.create_user(agent.id, first_name="Fuzz", last_name="User", email="fuzz@example.com")
    conversation = space.create_conversation(agent.id, user.id)
    params = case.path_parameters if case.path_parameters is not None else {}
    if path.startswith("/external/prompts/{id}"):
        params["id"] = state.create_prompt(agent, "fuzz", None, []).id
    elif path.startswith("/external/users/{id}"):
        params["id"] = user.id
        if method in {"PUT", "DELETE"} and path.endswith("/limits"):
            space.set_limits(agent.id, user.id, {"tokens": 1, "sms": 1, "emails": 1, "seconds": 1}, create=True)
    elif path.startswith("/external/conversations/{id}"):
        params["id"] = conversation.id
        if path.endswith("/send-manual-message"):
            space.update_conversation(agent.id, conversation.id, mode="manual")
        question, _ = space.send_message(agent.id, agent.name, conversation.id, "fuzz")
        if "questionMessageId" in params:
            params["questionMessageId"] = question.id
        if "fileId" in params:
            upload = state.issue_upload(agent, "f.txt", "text/plain", prefix=f"conversations/{conversation.id}")
            item = space.new_message_file("f.txt", upload.storage_path, None)
            space.send_message(agent.id, agent.name, conversation.id, "with file", files=[item])
            params["fileId"] = item.id
        if "conversationMessageId" in body:
            body["conversationMessageId"] = question.id
    elif path.startswith("/external/agent-files/{id}"):
        params["id"] = _agent_file(emulator).id
    if path == "/external/agent-files/by-api-key":
        _agent_file(emulator)
    if method in {"PUT", "DELETE"} and path == "/external/agents/limits":
        space.set_limits(agent.id, None, {"tokens": 1, "sms": 1, "emails": 1, "seconds": 1}, create=True)
    if path == "/external/users/search":
        case.query = {"email": user.email}
    if path == "/external/conversation-message-feedbacks":
        body["conversationMessageId"] = space.send_message(agent.id, agent.name, conversation.id, "rate me")[0].id
    if "conversationUserId" in body:
        body["conversationUserId"] = user.id
    if "conversationStateId" in body:
        body["conversationStateId"] = space.states(agent.id)[0].id
    if path == "/external/agents/webhooks":
        body["url"] = PUBLIC_WEBHOOK_URL
    prefix = f"conversations/{conversation.id}" if path.startswith("/external/conversations/") else None
    for item in body.get("files") or []:
        item["storagePath"] = state.issue_upload(agent, item["fileName"], "text/plain", prefix=prefix).storage_path


def _agent_file(emulator: RaiaEmulator) -> Any:
    return emulator.state.workspace.add_file(
        emulator.default_agent.id,
        file_name="kb.txt",
        content_type="text/plain",
        size=3,
        sha256="0" * 64,
        to_vector_store=False,
        delay=0,
    )


def _assert_auth_enforced(case: Any, emulator: RaiaEmulator, session: requests.Session) -> None:
    """Resend an accepted request without the key and with an unknown one: both must get raia's 403."""
    for headers in ({}, {"Agent-Secret-Key": "not-a-known-key"}):
        response = case.call(base_url=emulator.url, session=session, headers=headers)
        assert response.status_code == 403, (headers, response.status_code)
        assert response.json() == FORBIDDEN


def _fuzz(case: Any, emulator: RaiaEmulator, test: str) -> None:
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive:
        _make_valid_references_real(case, emulator)
    with requests.Session() as session:
        response = case.call_and_validate(
            base_url=emulator.url, session=session, headers={"Agent-Secret-Key": emulator.default_key}
        )
        SEEN.record(test, case.operation.method, case.operation.path, response.status_code)
        if positive and response.status_code in {200, 201, 204}:
            _assert_auth_enforced(case, emulator, session)


@pytest.fixture(autouse=True)
def _clean_server(raia_emulator_server: RaiaEmulator) -> None:
    """Start each fuzzed operation from a reset server (default knobs, no faults)."""
    raia_emulator_server.reset()


# The session server (reset by _clean_server before each operation), not `raia_emulator`: hypothesis refuses
# function-scoped fixtures in the signature of the test it drives.
@current_spec.parametrize()
def test_fuzz_current_spec(case: Any, raia_emulator_server: RaiaEmulator) -> None:
    _fuzz(case, raia_emulator_server, "test_fuzz_current_spec")


@older_spec.parametrize()
def test_fuzz_older_prompts_spec(case: Any, raia_emulator_server: RaiaEmulator) -> None:
    _fuzz(case, raia_emulator_server, "test_fuzz_older_prompts_spec")


def _operations(schema: Any) -> set[tuple[str, str]]:
    return {(result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()}


def test_fuzz_covers_the_served_operations() -> None:
    current, older = _operations(current_spec), _operations(older_spec)

    assert current == set(SERVED_OPERATIONS)
    assert len(SERVED_OPERATIONS) == 44
    # The older document covers the three prompt operations of its time only.
    assert older == {
        ("POST", "/external/prompts"),
        ("POST", "/external/prompts/async"),
        ("GET", "/external/prompts/{id}/response-on"),
    }


# The checks below run after the fuzz tests (same module, declared last) and judge what they sent.


def test_every_selected_fuzz_operation_sent_cases(request: pytest.FixtureRequest) -> None:
    """A fuzz item that generated no case passed without checking anything: that is a failure."""
    SEEN.assert_every_selected_operation_ran(request.session, FUZZ_TESTS)


def _invalid_input_is_expressible(operation: dict[str, Any]) -> bool:
    """Whether the schema lets a request to ``operation`` be invalid: a body, or a constrained query parameter."""
    if "requestBody" in operation:
        return True
    return any(
        parameter["in"] == "query"
        and (
            parameter.get("required")
            or set(parameter.get("schema", {})) - {"type", "example", "description"}
            or parameter.get("schema", {}).get("type") != "string"
        )
        for parameter in operation.get("parameters", [])
    )


def _current_statuses(request: pytest.FixtureRequest) -> dict[tuple[str, str], set[int]]:
    """The current spec's statuses per operation, once the whole current-spec fuzz ran (else skip)."""
    selected = SEEN.assert_every_selected_operation_ran(request.session, {"test_fuzz_current_spec"})
    if {(method, path) for _, method, path in selected} != set(SERVED_OPERATIONS):
        pytest.skip("only part of test_fuzz_current_spec was selected: the all-operations checks need all of it")
    return SEEN.statuses("test_fuzz_current_spec")


def test_fuzz_reached_every_operations_success(request: pytest.FixtureRequest) -> None:
    """The fuzz is only worth something if valid cases were accepted, on every operation."""
    current = _current_statuses(request)

    assert set(current) == set(SERVED_OPERATIONS)
    no_success = sorted(op for op, statuses in current.items() if not statuses & {200, 201, 204})
    assert no_success == []


@pytest.mark.skipif(
    not _CURRENT_SCHEMATHESIS,
    reason=f"schemathesis {version('schemathesis')} (the Airflow 3.1 floor's) generates valid cases only, so the "
    "refusal of invalid input is not checked here; it is on schemathesis >= 4.32 (the Airflow 3.3 run)",
)
def test_fuzz_saw_invalid_input_refused_on_every_operation_that_takes_input(request: pytest.FixtureRequest) -> None:
    """Every operation taking a body or query parameters was sent something invalid and refused it with 400."""
    current = _current_statuses(request)
    spec = contract_spec(json.loads((CONTRACT_DIR / "raia-external-api.raw.openapi.json").read_text("utf-8")))
    takes_input = {
        (method, path)
        for method, path in SERVED_OPERATIONS
        if _invalid_input_is_expressible(spec["paths"][path][method.lower()])
    }

    assert takes_input  # the spec parsed into something to check
    # Only optional, unconstrained string parameters: no value is invalid to the schema, so the fuzz cannot
    # aim at a refusal (raia's "one of them is needed" rule is tested in test_users.py).
    assert ("GET", "/external/users/search") not in takes_input
    never_refused = sorted(op for op in takes_input if 400 not in current[op])
    assert never_refused == []
