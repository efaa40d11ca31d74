"""The emulator's state: agents, knobs, faults, the rate limiter, the request log, and every resource's records.

The records live in the resource stores (see :mod:`.resources`): :class:`EmulatorState` is itself the prompt
and upload stores, and :attr:`EmulatorState.workspace` (:mod:`.workspace`) holds the others. All of them
share one :class:`~.storage.StoreContext`: the lock, the clocks, the knobs in force and the tables.

Everything here is thread-safe, because the server's event loop thread and the test's thread (through
:class:`~raia_provider.testing.emulator.server.RaiaEmulator`) share it. Critical sections are short and never
block, so taking the lock from ``async`` code is fine.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Unpack

from raia_provider.testing.emulator.config import ConfigChanges, EmulatorConfig
from raia_provider.testing.emulator.faults import FaultBook, RateLimiter
from raia_provider.testing.emulator.requestlog import RequestLog
from raia_provider.testing.emulator.resources.prompts.store import PromptStore
from raia_provider.testing.emulator.resources.uploads.store import UploadStore
from raia_provider.testing.emulator.storage import StoreContext, hex_id
from raia_provider.testing.emulator.workspace import Workspace

__all__ = ["DEFAULT_AGENT_NAME", "Agent", "EmulatorConfig", "EmulatorState"]

DEFAULT_AGENT_NAME = "Test Agent"


@dataclass(frozen=True)
class Agent:
    """An emulated agent. Its ``key`` is kept out of ``repr()`` so it does not end up in logs.

    :param id: agent id (UUID).
    :param name: agent name (also used in answers).
    :param key: the agent's ``Agent-Secret-Key``.
    :param organization_id: id of the (single, emulated) organization.
    :param vector_store_id: OpenAI-style vector store id.
    :param assistant_id: OpenAI-style assistant id (``aiConfig.id``).
    :param output_json_schema: its output JSON Schema (a JSON object), ``None`` when it answers in text.
    """

    id: str
    name: str
    key: str = field(repr=False)
    organization_id: str
    vector_store_id: str = field(default_factory=lambda: hex_id("vs_"))
    assistant_id: str = field(default_factory=lambda: hex_id("asst_"))
    output_json_schema: dict[str, Any] | None = field(default=None, repr=False, hash=False)


def checked_output_schema(schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return a copy of an output JSON Schema, refusing anything but a JSON object (``None`` passes).

    When ``jsonschema`` is installed (Airflow depends on it), the schema is also checked against its
    metaschema, so a typo fails when the schema is set rather than when a prompt is answered.

    :param schema: the schema, or ``None``.
    :raises ValueError: if it is not an object, not JSON or not a valid JSON Schema.
    """
    if schema is None:
        return None
    if not isinstance(schema, Mapping):
        raise ValueError("output_json_schema must be a JSON Schema object (a dict) or None")
    try:
        copied: dict[str, Any] = json.loads(json.dumps(schema))
    except (TypeError, ValueError) as error:
        raise ValueError(f"output_json_schema must be JSON: {error}") from None
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - Airflow installs it
        return copied
    try:
        jsonschema.validators.validator_for(copied).check_schema(copied)
    except jsonschema.SchemaError as error:
        raise ValueError(f"output_json_schema is not a valid JSON Schema: {error.message}") from None
    return copied


class EmulatorState(PromptStore, UploadStore):
    """All mutable state of one emulator.

    :param key: the default agent's key.
    :param agent_name: the default agent's name.
    :param config: the initial knobs (also what :meth:`reset` returns to).
    :param clock: monotonic clock, in seconds.
    :param wall_clock: epoch-seconds clock, for the ``createdAt`` of conversation-side records.
    """

    def __init__(
        self,
        *,
        key: str,
        agent_name: str = DEFAULT_AGENT_NAME,
        config: EmulatorConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._initial_config = config or EmulatorConfig()
        context = StoreContext(threading.RLock(), clock, wall_clock, self._initial_config)
        self.workspace = Workspace(context)
        super().__init__(context, usage=self.workspace)
        self.organization_id = str(uuid.uuid4())
        self._initial_agent = Agent(
            id=str(uuid.uuid4()), name=agent_name, key=key, organization_id=self.organization_id
        )
        self.faults = FaultBook()
        self.limiter = RateLimiter(clock)
        self.log = RequestLog()
        self._agents: dict[str, Agent] = {}
        self.reset()

    # -- knobs -------------------------------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        """The current knobs."""
        return self._context.config

    def configure(self, **changes: Unpack[ConfigChanges]) -> EmulatorConfig:
        """Change some knobs (see :class:`EmulatorConfig`) and return the new configuration.

        :param changes: the knobs to change; others keep their value.
        """
        with self._lock:
            config = self._context.config = replace(self._context.config, **changes)
            self.limiter.configure(config.rate_limit, config.burst)
            return config

    def now(self) -> float:
        """The emulator's monotonic clock."""
        return self._now()

    # -- agents ------------------------------------------------------------------------------------------

    @property
    def default_agent(self) -> Agent:
        """The agent every emulator starts with (as it is now: its output schema may have been set)."""
        with self._lock:
            return self._agents.get(self._initial_agent.key, self._initial_agent)

    def add_agent(
        self, key: str | None = None, name: str = "Agent", *, output_json_schema: Mapping[str, Any] | None = None
    ) -> Agent:
        """Create another agent with its own key.

        :param key: its ``Agent-Secret-Key``; a random UUID when omitted.
        :param name: its name.
        :param output_json_schema: its output JSON Schema; it then answers in JSON (see :mod:`.answers`).
        :raises ValueError: if the key is empty or already used, or the schema is not a JSON Schema object.
        """
        key = key if key is not None else str(uuid.uuid4())
        if not key:
            raise ValueError("an agent key must not be empty")
        agent = Agent(
            id=str(uuid.uuid4()),
            name=name,
            key=key,
            organization_id=self.organization_id,
            output_json_schema=checked_output_schema(output_json_schema),
        )
        with self._lock:
            if key in self._agents:
                raise ValueError("another agent already uses this key")
            self._agents[key] = agent
        return agent

    def set_agent_output_schema(self, agent: str, schema: Mapping[str, Any] | None) -> Agent:
        """Give an agent an output JSON Schema (``None`` takes it away); later answers follow it.

        :param agent: the agent's id or its key.
        :param schema: the schema (a JSON object), or ``None``.
        :raises KeyError: if no agent has that id or key.
        :raises ValueError: if the schema is not a JSON Schema object.
        """
        checked = checked_output_schema(schema)
        with self._lock:
            found = self._agents.get(agent) or next((a for a in self._agents.values() if a.id == agent), None)
            if found is None:
                raise KeyError(f"unknown agent {agent}")
            updated = self._agents[found.key] = replace(found, output_json_schema=checked)
            return updated

    def agent_for_key(self, key: str | None) -> Agent | None:
        """Return the agent owning ``key``, ``None`` if missing or unknown.

        :param key: the presented ``Agent-Secret-Key``.
        """
        if not key:
            return None
        with self._lock:
            return self._agents.get(key)

    def agent_id(self, agent_id: str | None) -> str:
        """Return ``agent_id`` if such an agent exists (the default agent's id for ``None``).

        :param agent_id: an agent id, or ``None``.
        :raises KeyError: if no agent has that id.
        """
        if agent_id is None:
            return self.default_agent.id
        with self._lock:
            if any(agent.id == agent_id for agent in self._agents.values()):
                return agent_id
        raise KeyError(f"unknown agent {agent_id}")

    def agents(self) -> list[Agent]:
        """Every agent, default first."""
        with self._lock:
            return list(self._agents.values())

    # -- reset -------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start: default agent only, no records, faults or log; initial knobs."""
        with self._lock:
            self._agents = {self._initial_agent.key: self._initial_agent}
            self._context.reset()
            self._context.config = self._initial_config
            self.limiter.configure(self._initial_config.rate_limit, self._initial_config.burst)
            self.faults.clear()
            self.log.clear()
