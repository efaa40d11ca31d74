"""Every ``Agent-Secret-Key`` operation of raia's spec: served, and 403 without a valid key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raia_provider.testing.emulator.contract import SERVED_OPERATIONS

if TYPE_CHECKING:
    from conftest import Api

RAW_SPEC = Path(__file__).resolve().parents[1] / "contract" / "raia-external-api.raw.openapi.json"
FORBIDDEN = {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}
DUMMY_ID = "5f7b1b3b-3b3b-4b3b-3b3b-3b3b3b3b3b3b"


def _agent_key_operations() -> set[tuple[str, str]]:
    spec = json.loads(RAW_SPEC.read_text(encoding="utf-8"))
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if any("Agent-Secret-Key" in requirement for requirement in operation.get("security", []))
    }


def test_every_agent_key_operation_is_served() -> None:
    operations = _agent_key_operations()

    assert len(operations) == 44
    assert set(SERVED_OPERATIONS) == operations
    assert len(SERVED_OPERATIONS) == len(set(SERVED_OPERATIONS))


@pytest.mark.parametrize(("method", "path"), SERVED_OPERATIONS, ids=[f"{m} {p}" for m, p in SERVED_OPERATIONS])
@pytest.mark.parametrize("key", [None, "not-a-known-key"])
def test_bad_key_is_403_everywhere(
    api: Api, method: str, path: str, key: str | None, validate_against: Callable[[Any, str], None]
) -> None:
    concrete = path.removeprefix("/external")
    for name in ("{id}", "{questionMessageId}", "{fileId}"):
        concrete = concrete.replace(name, DUMMY_ID)
    kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PUT", "DELETE"} else {}
    if path.endswith("/upload"):
        kwargs = {"files": {"file": ("a.txt", b"abc", "text/plain")}}

    response = api.call(method, concrete, key=key, **kwargs)

    assert response.status_code == 403, response.text
    assert response.json() == FORBIDDEN
    validate_against(response.json(), "ForbiddenErrorDTO")
