"""``EmulatorClient``: drive an emulator in another process through its control API (``requests``)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Unpack

import requests

from raia_provider.testing.emulator.answers import FAILURE_MESSAGE, MESSAGE_FAILURE_MESSAGE, ArrivedFile, Outcome
from raia_provider.testing.emulator.config import ConfigChanges, EmulatorConfig
from raia_provider.testing.emulator.control.arguments import FaultRule, UserContacts
from raia_provider.testing.emulator.faults import Fault, FaultKind
from raia_provider.testing.emulator.net import CONTROL_PREFIX, EXTERNAL_PREFIX
from raia_provider.testing.emulator.records import (
    AgentFile,
    Channel,
    Conversation,
    ConversationMode,
    ConversationUser,
    KeyLeak,
    Message,
    MessageFile,
    MessageJob,
    PromptRecord,
    Upload,
    UsageEvent,
    Webhook,
)
from raia_provider.testing.emulator.requestlog import RecordedRequest
from raia_provider.testing.emulator.state import Agent


def _prompt(data: dict[str, Any]) -> PromptRecord:
    outcome = data.get("outcome")
    return PromptRecord(
        **{
            **data,
            "file_names": tuple(data.get("file_names", ())),
            "outcome": Outcome(**outcome) if outcome else None,
            "files": _arrived(data),
        }
    )


def _arrived(data: dict[str, Any]) -> tuple[ArrivedFile, ...]:
    return tuple(ArrivedFile(**item) for item in data.get("files", ()))


def _message(data: dict[str, Any]) -> Message:
    return Message(**{**data, "files": tuple(MessageFile(**item) for item in data.get("files", ()))})


def _job(data: dict[str, Any]) -> MessageJob:
    return MessageJob(**{**data, "file_names": tuple(data.get("file_names", ())), "files": _arrived(data)})


def _owner(agent_id: str | None) -> dict[str, str]:
    return {} if agent_id is None else {"agent_id": agent_id}


class EmulatorClient:
    """Client of an emulator's control API, with the method names of ``RaiaEmulator``.

    :param url: the emulator's origin ``http://127.0.0.1:PORT`` (a trailing ``/external`` is accepted).
    :param timeout: seconds per control call.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        url = url.rstrip("/")
        if url.endswith(EXTERNAL_PREFIX):
            url = url[: -len(EXTERNAL_PREFIX)]
        self.url = url
        self._control = f"{url}{CONTROL_PREFIX}"
        self._timeout = timeout
        self._http = requests.Session()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> EmulatorClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self._control}{path}", timeout=self._timeout, **kwargs)
        # Mirror RaiaEmulator's exceptions: bad arguments -> ValueError, unknown id -> KeyError.
        if response.status_code in {400, 409, 422}:
            raise ValueError(response.json().get("detail"))
        if response.status_code == 404:
            raise KeyError(response.json().get("detail"))
        response.raise_for_status()
        return response.json() if response.content else None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/external``."""
        return f"{self.url}{EXTERNAL_PREFIX}"

    @property
    def storage_url(self) -> str:
        """``http://HOST:PORT`` of the storage service the signed URLs point at (asked of ``/health``)."""
        return str(self.health()["storage_url"])

    def health(self) -> dict[str, Any]:
        """``GET /_emulator/health``: status, base URL, storage URL and default agent id and name."""
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def add_agent(
        self, key: str | None = None, name: str = "Agent", *, output_json_schema: Mapping[str, Any] | None = None
    ) -> Agent:
        """Create another agent.

        :param key: its ``Agent-Secret-Key``; generated when omitted (the answer carries it).
        :param name: its name.
        :param output_json_schema: its output JSON Schema (it then answers in JSON).
        """
        spec = {"key": key, "name": name, "output_json_schema": output_json_schema}
        return Agent(**self._call("POST", "/agents", json=spec))

    def set_agent_output_schema(self, agent: str, schema: Mapping[str, Any] | None) -> Agent:
        """Give an agent an output JSON Schema, or take it away (``None``).

        :param agent: the agent's id or key.
        :param schema: the JSON Schema, or ``None``.
        """
        body = {"output_json_schema": schema}
        return Agent(**self._call("PUT", f"/agents/{urllib.parse.quote(agent, safe='')}/output-schema", json=body))

    def uploads(self) -> list[Upload]:
        """Every signed upload issued, with the size, SHA-256 and content type of what was PUT (``data`` is
        always ``None`` here: the bytes stay in the emulator)."""
        return [Upload(**item) for item in self._call("GET", "/uploads")]

    def key_leaks(self) -> list[KeyLeak]:
        """Storage requests refused (403) for carrying the ``Agent-Secret-Key`` header."""
        return [KeyLeak(**item) for item in self._call("GET", "/key-leaks")]

    def configure(self, **changes: Unpack[ConfigChanges]) -> EmulatorConfig:
        """Change knobs (see ``EmulatorConfig``).

        :param changes: the knobs to change.
        """
        return EmulatorConfig(**self._call("POST", "/config", json=dict(changes)))

    @property
    def config(self) -> EmulatorConfig:
        """The current knobs."""
        return EmulatorConfig(**self._call("GET", "/config"))

    def inject_fault(self, *, kind: FaultKind, **rule: Unpack[FaultRule]) -> Fault:
        """Add a fault rule (see ``RaiaEmulator.inject_fault``).

        :param kind: the fault kind.
        :param rule: the rest of the rule (see :class:`~.control.arguments.FaultRule`).
        """
        return Fault(**self._call("POST", "/faults", json={"kind": kind, **rule}))

    def faults(self) -> list[Fault]:
        """Pending fault rules."""
        return [Fault(**item) for item in self._call("GET", "/faults")]

    def clear_faults(self) -> None:
        """Drop every fault rule."""
        self._call("DELETE", "/faults")

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """The request log, optionally filtered.

        :param method: HTTP method filter.
        :param path: path pattern filter.
        """
        params = {name: value for name, value in (("method", method), ("path", path)) if value is not None}
        return [RecordedRequest(**item) for item in self._call("GET", "/requests", params=params)]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    def complete_prompt(
        self, prompt_id: str, response: str | None = None, total_tokens: int | None = None
    ) -> PromptRecord:
        """Complete an async prompt now.

        :param prompt_id: the ``promptId``.
        :param response: answer text (default: the deterministic answer).
        :param total_tokens: token count (default: computed).
        """
        body = {"response": response, "total_tokens": total_tokens}
        return _prompt(self._call("POST", f"/prompts/{prompt_id}/complete", json=body))

    def fail_prompt(self, prompt_id: str, error: str = FAILURE_MESSAGE) -> PromptRecord:
        """Fail an async prompt now.

        :param prompt_id: the ``promptId``.
        :param error: the error text.
        """
        return _prompt(self._call("POST", f"/prompts/{prompt_id}/fail", json={"error": error}))

    def complete_message(self, question_id: str, response: str | None = None) -> MessageJob:
        """Answer a pending conversation question now.

        :param question_id: the question message id.
        :param response: the reply text (default: the deterministic answer).
        """
        return _job(self._call("POST", f"/messages/{question_id}/complete", json={"response": response}))

    def fail_message(self, question_id: str, error: str = MESSAGE_FAILURE_MESSAGE) -> MessageJob:
        """Fail a pending conversation question now.

        :param question_id: the question message id.
        :param error: the error text.
        """
        return _job(self._call("POST", f"/messages/{question_id}/fail", json={"error": error}))

    def complete_vector_store(self, file_id: str) -> AgentFile:
        """End an agent file's processing vector-store upload ``done``.

        :param file_id: the agent file id.
        """
        return AgentFile(**self._call("POST", f"/agent-files/{file_id}/complete"))

    def fail_vector_store(self, file_id: str) -> AgentFile:
        """End an agent file's processing vector-store upload ``failed``.

        :param file_id: the agent file id.
        """
        return AgentFile(**self._call("POST", f"/agent-files/{file_id}/fail"))

    def seed_user(
        self,
        first_name: str = "Test",
        last_name: str = "User",
        *,
        agent_id: str | None = None,
        **contacts: Unpack[UserContacts],
    ) -> ConversationUser:
        """Create a conversation user (see ``RaiaEmulator.seed_user``).

        :param first_name: first name.
        :param last_name: last name.
        :param agent_id: the owning agent (default agent when omitted).
        :param contacts: ``email``, ``phone_number``, ``fk_id``, ``fk_user_id``.
        """
        spec = {"first_name": first_name, "last_name": last_name, "agent_id": agent_id, **contacts}
        return ConversationUser(**self._call("POST", "/users", json=spec))

    def seed_conversation(
        self,
        user_id: str,
        *,
        title: str | None = None,
        channel: Channel = "api",
        mode: ConversationMode = "ai",
        agent_id: str | None = None,
    ) -> Conversation:
        """Create a conversation (see ``RaiaEmulator.seed_conversation``).

        :param user_id: the conversation user.
        :param title: title.
        :param channel: ``api``, ``email``, ``sms`` or ``voice``.
        :param mode: ``ai`` or ``manual``.
        :param agent_id: the owning agent (default agent when omitted).
        """
        spec = {"user_id": user_id, "title": title, "channel": channel, "mode": mode, "agent_id": agent_id}
        return Conversation(**self._call("POST", "/conversations", json=spec))

    def users(self, agent_id: str | None = None) -> list[ConversationUser]:
        """An agent's conversation users.

        :param agent_id: the agent (default agent when omitted).
        """
        return [ConversationUser(**item) for item in self._call("GET", "/users", params=_owner(agent_id))]

    def conversations(self, agent_id: str | None = None) -> list[Conversation]:
        """An agent's conversations.

        :param agent_id: the agent (default agent when omitted).
        """
        return [Conversation(**item) for item in self._call("GET", "/conversations", params=_owner(agent_id))]

    def messages(self, conversation_id: str | None = None, agent_id: str | None = None) -> list[Message]:
        """An agent's messages (or one conversation's).

        :param conversation_id: only this conversation's.
        :param agent_id: the agent (default agent when omitted).
        """
        params = _owner(agent_id)
        if conversation_id is not None:
            params["conversation_id"] = conversation_id
        return [_message(item) for item in self._call("GET", "/messages", params=params)]

    def agent_files(self, agent_id: str | None = None) -> list[AgentFile]:
        """An agent's knowledge-base files.

        :param agent_id: the agent (default agent when omitted).
        """
        return [AgentFile(**item) for item in self._call("GET", "/agent-files", params=_owner(agent_id))]

    def webhooks(self, agent_id: str | None = None) -> list[Webhook]:
        """An agent's webhooks.

        :param agent_id: the agent (default agent when omitted).
        """
        return [Webhook(**item) for item in self._call("GET", "/webhooks", params=_owner(agent_id))]

    def usage(self, agent_id: str | None = None) -> list[UsageEvent]:
        """An agent's usage events.

        :param agent_id: the agent (default agent when omitted).
        """
        return [UsageEvent(**item) for item in self._call("GET", "/usage", params=_owner(agent_id))]

    def reset(self) -> None:
        """Back to the initial state."""
        self._call("POST", "/reset")
