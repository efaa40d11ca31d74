"""Fuzz the emulator against its OWN OpenAPI document (FastAPI's, served at ``/_emulator/openapi.json``).

``test_schemathesis.py`` holds the emulator to raia's published contract. This module holds it to what it
says about itself: a client generated from the emulator's document, or a reader of it, must not be misled.
Restricted to the ``/external`` operations (the control API is test plumbing: fuzzing ``reset``, ``faults``
or ``config`` would reconfigure the server under the other tests).

Checks: ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance`` and
``response_schema_conformance``, on valid and invalid requests, with the default agent's key. The
generation settings (examples, phases, deterministic) are those of ``test_schemathesis.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis

from raia_provider.testing.emulator.app import create_app
from raia_provider.testing.emulator.net import CONTROL_PREFIX, EXTERNAL_PREFIX
from raia_provider.testing.emulator.server import RaiaEmulator
from raia_provider.testing.emulator.state import EmulatorState
from tests.emulator.fuzz_record import FuzzRecord
from tests.emulator.test_schemathesis import _CURRENT_SCHEMATHESIS, MAX_EXAMPLES

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"]
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all" if _CURRENT_SCHEMATHESIS else "positive",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
        },
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": _CURRENT_SCHEMATHESIS}},
        "checks": {"enabled": False, **{check: {"enabled": True} for check in CHECKS}},
    }
)
# The document as the app generates it; test_served_document_is_the_apps checks the server serves the same.
OWN_SPEC = create_app(EmulatorState(key="schema-only")).openapi()
own_spec = schemathesis.openapi.from_dict(OWN_SPEC, config=CONFIG).include(path_regex=f"^{EXTERNAL_PREFIX}/")
SEEN = FuzzRecord()


@pytest.fixture(autouse=True)
def _clean_server(raia_emulator_server: RaiaEmulator) -> None:
    raia_emulator_server.reset()


@own_spec.parametrize()
def test_fuzz_own_spec(case: Any, raia_emulator_server: RaiaEmulator) -> None:
    with requests.Session() as session:
        response = case.call_and_validate(
            base_url=raia_emulator_server.url,
            session=session,
            headers={"Agent-Secret-Key": raia_emulator_server.default_key},
        )
    SEEN.record("test_fuzz_own_spec", case.operation.method, case.operation.path, response.status_code)


def test_served_document_is_the_apps(raia_emulator_server: RaiaEmulator) -> None:
    served = requests.get(f"{raia_emulator_server.url}{CONTROL_PREFIX}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json()["paths"].keys() == OWN_SPEC["paths"].keys()


def test_own_spec_covers_every_external_operation() -> None:
    operations = [result.ok() for result in own_spec.get_all_operations()]
    assert len(operations) == 44


def test_every_selected_own_spec_operation_sent_cases(request: pytest.FixtureRequest) -> None:
    """Runs after the fuzz (declared last): an operation that generated no case checked nothing."""
    SEEN.assert_every_selected_operation_ran(request.session, {"test_fuzz_own_spec"})
