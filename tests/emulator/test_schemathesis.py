"""Fuzz the emulator from raia's own OpenAPI documents with schemathesis.

Both the published spec and the older prompts-only revision are used, restricted to the operations the
emulator serves. Each document first goes through ``contract_spec()``, which fixes the spec's known defects
and documents the statuses raia leaves out (see ``raia_provider/testing/emulator/contract.py``, one comment
per fix):

* the ``null`` body of ``response-on`` (documented only outside ``content``);
* undocumented 400 (bad body), 404 (unknown prompt) and 429 (rate limit) responses;
* error DTOs typing ``name`` as ``object``; two undefined skill schemas; the skills ``oneOf`` no real
  profile can satisfy;
* non-blank required strings (our class-validator reading).

Checks: schemathesis' defaults (``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance``, ``response_schema_conformance``, ``negative_data_rejection``,
``positive_data_acceptance``, ...), with these settings:

* negative (invalid) requests must get 400, or 404 for an id no prompt has;
* positive (valid) requests must get 200 — so a valid request's ``files`` cite uploads the emulator really
  issued, and a valid poll uses a prompt id that exists (random ones are rightly unknown);
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
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis

from raia_provider.testing.emulator.contract import SERVED_OPERATIONS, contract_spec
from raia_provider.testing.emulator.server import RaiaEmulator

CONTRACT_DIR = Path(__file__).resolve().parents[1] / "contract"
CONFIG = schemathesis.Config.from_dict(
    {
        # Security headers are not fuzzed: we send the real key, and _assert_auth_enforced probes auth.
        "generation": {"mode": "all", "max-examples": 40, "deterministic": True, "with-security-parameters": False},
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "negative_data_rejection": {"expected-statuses": [400, 404]},
            "positive_data_acceptance": {"expected-statuses": [200]},
            # Express answers 404, not 405, for a method a path does not serve (see module docstring).
            "unsupported_method": {"enabled": False},
            # Replaced by _assert_auth_enforced: schemathesis 4.2 (the Airflow 3.1 floor's) accepts only 401
            # here, while raia documents 403 for a missing or wrong key.
            "ignored_auth": {"enabled": False},
        },
    }
)
SERVED_PATHS = sorted({path for _, path in SERVED_OPERATIONS})
FORBIDDEN = {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}


def _schema(file_name: str) -> Any:
    spec = contract_spec(json.loads((CONTRACT_DIR / file_name).read_text(encoding="utf-8")))
    return schemathesis.openapi.from_dict(spec, config=CONFIG).include(path=SERVED_PATHS)


current_spec = _schema("raia-external-api.raw.openapi.json")
older_spec = _schema("openapi-prompts.json")


def _make_valid_references_real(case: Any, emulator: RaiaEmulator) -> None:
    """Point a schema-valid request at things that exist, so the server can accept it."""
    agent = emulator.default_agent
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = emulator.state.create_prompt(agent, "fuzz", None, []).id
    files = case.body.get("files") if isinstance(case.body, dict) else None
    for item in files or []:
        upload = emulator.state.issue_upload(agent, item["fileName"], "application/octet-stream")
        item["storagePath"] = upload.storage_path


def _assert_auth_enforced(case: Any, emulator: RaiaEmulator, session: requests.Session) -> None:
    """Resend an accepted request without the key and with an unknown one: both must get raia's 403."""
    for headers in ({}, {"Agent-Secret-Key": "not-a-known-key"}):
        response = case.call(base_url=emulator.url, session=session, headers=headers)
        assert response.status_code == 403, (headers, response.status_code)
        assert response.json() == FORBIDDEN


def _fuzz(case: Any, emulator: RaiaEmulator) -> None:
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive:
        _make_valid_references_real(case, emulator)
    with requests.Session() as session:
        response = case.call_and_validate(
            base_url=emulator.url, session=session, headers={"Agent-Secret-Key": emulator.default_key}
        )
        if positive and response.status_code == 200:
            _assert_auth_enforced(case, emulator, session)


@pytest.fixture(autouse=True)
def _clean_server(raia_emulator_server: RaiaEmulator) -> None:
    """Start each fuzzed operation from a reset server (default knobs, no faults)."""
    raia_emulator_server.reset()


# The session server (reset by _clean_server before each operation), not `raia_emulator`: hypothesis refuses
# function-scoped fixtures in the signature of the test it drives.
@current_spec.parametrize()
def test_fuzz_current_spec(case: Any, raia_emulator_server: RaiaEmulator) -> None:
    _fuzz(case, raia_emulator_server)


@older_spec.parametrize()
def test_fuzz_older_prompts_spec(case: Any, raia_emulator_server: RaiaEmulator) -> None:
    _fuzz(case, raia_emulator_server)


def _operations(schema: Any) -> set[tuple[str, str]]:
    return {(result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()}


def test_fuzz_covers_the_served_operations() -> None:
    current, older = _operations(current_spec), _operations(older_spec)

    assert current == set(SERVED_OPERATIONS)
    assert older == set(SERVED_OPERATIONS) - {
        ("POST", "/external/prompts/upload-url"),  # added after that revision
        ("GET", "/external/agents/by-api-key"),  # not part of the prompts document
    }
