"""Shared fixtures for the emulator's own tests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import pytest
import requests

from raia_provider.testing.emulator.contract import contract_spec, json_schema
from raia_provider.testing.emulator.server import RaiaEmulator

# The emulator fixtures (`raia_emulator`, `raia_emulator_server`) come from
# `pytest_plugins = ["raia_provider.testing.pytest_plugin"]` in tests/conftest.py: pytest refuses
# `pytest_plugins` in a conftest below the top level when the whole suite runs.

CONTRACT_DIR = Path(__file__).resolve().parents[1] / "contract"
RAW_SPEC = CONTRACT_DIR / "raia-external-api.raw.openapi.json"
T = TypeVar("T")


def load_spec(path: Path) -> dict[str, Any]:
    """Read an OpenAPI document.

    :param path: the JSON file.
    """
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def raw_contract() -> dict[str, Any]:
    """raia's published spec with its defects fixed (see ``raia_provider.testing.emulator.contract``)."""
    return contract_spec(load_spec(RAW_SPEC))


@pytest.fixture(scope="session")
def validate_against(raw_contract: dict[str, Any]) -> Callable[[Any, str], None]:
    """A function ``(instance, schema_name)`` validating against a component schema of the fixed spec.

    :param raw_contract: the fixed spec.
    """

    def validate(instance: Any, schema_name: str) -> None:
        jsonschema.Draft7Validator(json_schema(raw_contract, schema_name)).validate(instance)

    return validate


def poll_until(probe: Callable[[], T | None], timeout: float = 5.0, interval: float = 0.02) -> T:
    """Call ``probe`` until it returns something other than ``None``, or fail after ``timeout`` seconds.

    :param probe: the condition to poll.
    :param timeout: the deadline, in seconds.
    :param interval: pause between calls.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@dataclass
class Api:
    """Plain ``requests`` calls to the emulator's ``/external`` API, with the default key unless told.

    :param base_url: the emulator's ``/external`` base URL.
    :param key: the key sent by default.
    """

    base_url: str
    key: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, *, key: str | None = "default", **kwargs: Any) -> requests.Response:
        """Send one request.

        :param method: HTTP method.
        :param path: path below ``/external``.
        :param key: the ``Agent-Secret-Key``; ``"default"`` for the default agent's, ``None`` for none.
        :param kwargs: passed to ``requests``.
        """
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Agent-Secret-Key"] = self.key if key == "default" else key
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)

    def prompt(self, text: str, **kwargs: Any) -> requests.Response:
        """``POST /prompts`` with ``{"prompt": text}``.

        :param text: the prompt.
        :param kwargs: passed to :meth:`call`.
        """
        return self.call("POST", "/prompts", json={"prompt": text}, **kwargs)

    def create(self, text: str, **kwargs: Any) -> str:
        """``POST /prompts/async`` and return the ``promptId``.

        :param text: the prompt.
        :param kwargs: passed to :meth:`call`.
        """
        response = self.call("POST", "/prompts/async", json={"prompt": text}, **kwargs)
        assert response.status_code == 200, response.text
        prompt_id: str = response.json()["promptId"]
        return prompt_id

    def poll(self, prompt_id: str, **kwargs: Any) -> requests.Response:
        """``GET /prompts/{id}/response-on``.

        :param prompt_id: the ``promptId``.
        :param kwargs: passed to :meth:`call`.
        """
        return self.call("GET", f"/prompts/{prompt_id}/response-on", **kwargs)

    def user(self, key: str | None = "default", **fields: Any) -> dict[str, Any]:
        """``POST /users`` (defaults: a first and last name and a fresh email) and return the user DTO.

        :param key: the key to send.
        :param fields: body fields.
        """
        body = {"firstName": "Ada", "lastName": "Lovelace", **fields}
        if not {"email", "phoneNumber", "fkId"} & set(body):
            body["email"] = f"{uuid.uuid4().hex[:12]}@example.com"
        response = self.call("POST", "/users", json=body, key=key)
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        return user

    def conversation(self, user_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """``POST /conversations`` (for a new user unless given) and return the conversation DTO.

        :param user_id: the conversation user.
        :param fields: other body fields.
        """
        user_id = user_id or self.user()["id"]
        response = self.call("POST", "/conversations", json={"conversationUserId": user_id, **fields})
        assert response.status_code == 201, response.text
        conversation: dict[str, Any] = response.json()
        return conversation


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., Any]:
    """:func:`poll_until`, as a fixture (test modules do not import from conftest)."""
    return poll_until


@pytest.fixture
def api(raia_emulator: RaiaEmulator) -> Iterator[Api]:
    """An :class:`Api` on the (reset) session emulator.

    :param raia_emulator: the emulator.
    """
    client = Api(raia_emulator.base_url, raia_emulator.default_key)
    yield client
    client.session.close()
