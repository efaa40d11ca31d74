"""The emulator's state: agents, prompts, uploads, knobs, faults, rate limiter and request log.

The conversation side (users, conversations, messages, files, webhooks, limits, usage, feedback) lives in
:attr:`EmulatorState.workspace` (:mod:`.workspace`), under the same lock.

Everything here is thread-safe, because the server's event loop thread and the test's thread (through
:class:`~raia_provider.testing.emulator.server.RaiaEmulator`) share it. Critical sections are short and never
block, so taking the lock from ``async`` code is fine.

Async prompt life cycle: a prompt created at ``t`` with the ``prompt_delay`` knob ``d`` settles on the first
poll at or after ``t + d`` (computed when polled; no background task). With ``prompt_delay=None`` new prompts
stay pending until completed or failed through the control API. The delay is fixed when the prompt is
created, so changing the knob only affects new prompts.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypedDict, Unpack, get_args

from raia_provider.testing.emulator.answers import (
    FAILURE_MESSAGE,
    Outcome,
    PromptStatus,
    answer_for,
    count_tokens,
    failed_outcome,
    outcome_for,
)
from raia_provider.testing.emulator.faults import FaultBook, RateLimiter
from raia_provider.testing.emulator.requestlog import RequestLog
from raia_provider.testing.emulator.workspace import Workspace

PendingStyle = Literal["null", "status", "alternate"]
PENDING_STYLES: tuple[str, ...] = get_args(PendingStyle)
MessageStatusVocabulary = Literal["spec", "release_notes"]
MESSAGE_STATUS_VOCABULARIES: tuple[str, ...] = get_args(MessageStatusVocabulary)
KEPT_UPLOAD_BYTES = 1024 * 1024
"""Bytes PUT to a signed upload URL are kept (and served back) up to this size; larger uploads keep only their
size."""
DEFAULT_AGENT_NAME = "Test Agent"


class ConfigChanges(TypedDict, total=False):
    """Keyword arguments accepted by ``configure()``; see :class:`EmulatorConfig`."""

    prompt_delay: float | None
    latency: float
    pending_style: PendingStyle
    rate_limit: float | None
    burst: int | None
    message_delay: float | None
    message_status_vocabulary: MessageStatusVocabulary
    vector_store_delay: float | None


@dataclass(frozen=True)
class EmulatorConfig:
    """The emulator's knobs.

    :param prompt_delay: seconds before an async prompt settles; ``None`` keeps new prompts pending until
        completed through the control API.
    :param latency: seconds added to every ``/external`` response (async sleep).
    :param pending_style: body of a not-ready poll: ``null`` (the JSON literal), ``status`` (the DTO with
        ``status: "pending"``) or ``alternate`` (``null`` on a prompt's odd polls, ``status`` on even ones).
    :param rate_limit: requests per second per agent; ``None`` for no limit.
    :param burst: token-bucket size; ``None`` means ``max(1, ceil(rate_limit))``.
    :param message_delay: seconds before the answer to an async conversation message settles; ``None``
        keeps new answers pending until completed through the control API.
    :param message_status_vocabulary: status words of a message poll (``…/response-on``): ``spec``
        (``pending``/``completed``/``failed``, all three keys always present) or ``release_notes``
        (``running``/``completed``/``error``, ``message``/``error`` keys only when set), as raia's
        2025-12-10 release notes describe it.
    :param vector_store_delay: seconds an agent file stays ``processing`` in the vector store (auto-add on
        upload and ``add-to-vector-store/async``); ``None`` holds it until settled through the control API.
    """

    prompt_delay: float | None = 0.2
    latency: float = 0.0
    pending_style: PendingStyle = "null"
    rate_limit: float | None = None
    burst: int | None = None
    message_delay: float | None = 0.2
    message_status_vocabulary: MessageStatusVocabulary = "spec"
    vector_store_delay: float | None = 0.2

    def __post_init__(self) -> None:
        for name in ("prompt_delay", "message_delay", "vector_store_delay"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")
        if self.message_status_vocabulary not in MESSAGE_STATUS_VOCABULARIES:
            raise ValueError(f"message_status_vocabulary must be one of {', '.join(MESSAGE_STATUS_VOCABULARIES)}")
        if self.latency < 0:
            raise ValueError("latency must not be negative")
        if self.pending_style not in PENDING_STYLES:
            raise ValueError(f"pending_style must be one of {', '.join(PENDING_STYLES)}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be positive")
        if self.burst is not None and self.burst < 1:
            raise ValueError("burst must be at least 1")


def _hex_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True)
class Agent:
    """An emulated agent. Its ``key`` is kept out of ``repr()`` so it does not end up in logs.

    :param id: agent id (UUID).
    :param name: agent name (also used in answers).
    :param key: the agent's ``Agent-Secret-Key``.
    :param organization_id: id of the (single, emulated) organization.
    :param vector_store_id: OpenAI-style vector store id.
    :param assistant_id: OpenAI-style assistant id (``aiConfig.id``).
    """

    id: str
    name: str
    key: str = field(repr=False)
    organization_id: str
    vector_store_id: str = field(default_factory=lambda: _hex_id("vs_"))
    assistant_id: str = field(default_factory=lambda: _hex_id("asst_"))


@dataclass(frozen=True)
class PromptRecord:
    """An async prompt as stored by the emulator.

    :param id: the opaque ``promptId``.
    :param agent_id: owner.
    :param agent_name: owner's name, for the answer.
    :param prompt: the prompt text.
    :param token_tracking_id: the optional ``tokenTrackingId``.
    :param file_names: names of attached files.
    :param created_at: monotonic creation time.
    :param due_at: monotonic time from which a poll settles it; ``None`` = held until the control API acts.
    :param outcome: the settled result, ``None`` while pending.
    :param polls: how many times it has been polled.
    """

    id: str
    agent_id: str
    agent_name: str
    prompt: str
    token_tracking_id: str | None
    file_names: tuple[str, ...]
    created_at: float
    due_at: float | None
    outcome: Outcome | None = None
    polls: int = 0

    @property
    def status(self) -> PromptStatus:
        """``pending`` until settled, then the outcome's status."""
        return "pending" if self.outcome is None else self.outcome.status


@dataclass(frozen=True)
class Upload:
    """A signed upload URL issued by ``POST /external/prompts/upload-url``.

    :param token: the secret part of the signed URL.
    :param agent_id: the agent it was issued to.
    :param file_name: the requested file name.
    :param content_type: the requested content type.
    :param storage_path: the ``storagePath`` to cite in a prompt's (or message's) ``files``.
    :param size: bytes received by the PUT, ``None`` until uploaded.
    :param data: the bytes received, kept only up to :data:`KEPT_UPLOAD_BYTES` (``None`` otherwise).
    """

    token: str
    agent_id: str
    file_name: str
    content_type: str
    storage_path: str
    size: int | None = None
    data: bytes | None = field(default=None, repr=False)


class EmulatorState:
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
        self._lock = threading.RLock()
        self._clock = clock
        self.workspace = Workspace(self._lock, clock, wall_clock)
        self.organization_id = str(uuid.uuid4())
        self.default_agent = Agent(id=str(uuid.uuid4()), name=agent_name, key=key, organization_id=self.organization_id)
        self._initial_config = config or EmulatorConfig()
        self._config = self._initial_config
        self.faults = FaultBook()
        self.limiter = RateLimiter(clock)
        self.log = RequestLog()
        self._agents: dict[str, Agent] = {}
        self._prompts: dict[str, PromptRecord] = {}
        self._uploads: dict[str, Upload] = {}
        self.reset()

    # -- knobs -------------------------------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        """The current knobs."""
        return self._config

    def configure(self, **changes: Unpack[ConfigChanges]) -> EmulatorConfig:
        """Change some knobs (see :class:`EmulatorConfig`) and return the new configuration.

        :param changes: the knobs to change; others keep their value.
        """
        with self._lock:
            self._config = replace(self._config, **changes)
            self.limiter.configure(self._config.rate_limit, self._config.burst)
            return self._config

    def now(self) -> float:
        """The emulator's monotonic clock."""
        return self._clock()

    # -- agents ------------------------------------------------------------------------------------------

    def add_agent(self, key: str | None = None, name: str = "Agent") -> Agent:
        """Create another agent with its own key.

        :param key: its ``Agent-Secret-Key``; a random UUID when omitted.
        :param name: its name.
        :raises ValueError: if the key is empty or already used.
        """
        key = key if key is not None else str(uuid.uuid4())
        if not key:
            raise ValueError("an agent key must not be empty")
        agent = Agent(id=str(uuid.uuid4()), name=name, key=key, organization_id=self.organization_id)
        with self._lock:
            if key in self._agents:
                raise ValueError("another agent already uses this key")
            self._agents[key] = agent
        return agent

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

    # -- prompts -----------------------------------------------------------------------------------------

    def create_prompt(
        self, agent: Agent, prompt: str, token_tracking_id: str | None, file_names: Sequence[str]
    ) -> PromptRecord:
        """Store a new async prompt, due after the current ``prompt_delay``.

        :param agent: the owner.
        :param prompt: the prompt text.
        :param token_tracking_id: the optional ``tokenTrackingId``.
        :param file_names: names of attached files.
        """
        now = self._clock()
        delay = self._config.prompt_delay
        record = PromptRecord(
            id=str(uuid.uuid4()),
            agent_id=agent.id,
            agent_name=agent.name,
            prompt=prompt,
            token_tracking_id=token_tracking_id,
            file_names=tuple(file_names),
            created_at=now,
            due_at=None if delay is None else now + delay,
        )
        with self._lock:
            self._prompts[record.id] = record
        return record

    def poll_prompt(self, agent_id: str, prompt_id: str) -> PromptRecord | None:
        """Poll a prompt: settle it if due, count the poll, and return it.

        :param agent_id: the polling agent; another agent's prompt is reported as unknown.
        :param prompt_id: the ``promptId``.
        :return: the prompt after this poll, or ``None`` if unknown to this agent.
        """
        now = self._clock()
        with self._lock:
            record = self._prompts.get(prompt_id)
            if record is None or record.agent_id != agent_id:
                return None
            if record.outcome is None and record.due_at is not None and now >= record.due_at:
                record = self._settle(
                    record, outcome_for(record.prompt, record.agent_name, file_names=record.file_names)
                )
            record = replace(record, polls=record.polls + 1)
            self._prompts[prompt_id] = record
            return record

    def complete_prompt(
        self, prompt_id: str, response: str | None = None, total_tokens: int | None = None
    ) -> PromptRecord:
        """Complete a prompt now (even one carrying the fail marker).

        :param prompt_id: the ``promptId``.
        :param response: answer text; the deterministic answer when omitted.
        :param total_tokens: token count; computed from prompt and response when omitted.
        :raises KeyError: if the prompt does not exist.
        """
        with self._lock:
            record = self._prompts[prompt_id]
            if response is None:
                response, tokens = answer_for(record.prompt, record.agent_name, file_names=record.file_names)
            else:
                tokens = count_tokens(record.prompt, response)
            outcome = Outcome(
                status="completed",
                response=response,
                total_tokens=tokens if total_tokens is None else total_tokens,
                error=None,
            )
            return self._settle(record, outcome)

    def fail_prompt(self, prompt_id: str, error: str = FAILURE_MESSAGE) -> PromptRecord:
        """Fail a prompt now.

        :param prompt_id: the ``promptId``.
        :param error: the error text.
        :raises KeyError: if the prompt does not exist.
        """
        with self._lock:
            return self._settle(self._prompts[prompt_id], failed_outcome(error))

    def _settle(self, record: PromptRecord, outcome: Outcome) -> PromptRecord:
        if record.outcome is None:
            self.record_prompt_usage(record.agent_id, outcome)
        record = replace(record, outcome=outcome)
        self._prompts[record.id] = record
        return record

    def record_prompt_usage(self, agent_id: str, outcome: Outcome) -> None:
        """Count a settled prompt's tokens into the agent's usage (once per prompt).

        :param agent_id: the prompt's agent.
        :param outcome: the settled outcome.
        """
        if outcome.total_tokens:
            self.workspace.record_usage(agent_id, "tokens", outcome.total_tokens)

    def prompts(self) -> list[PromptRecord]:
        """Every stored async prompt, oldest first."""
        with self._lock:
            return list(self._prompts.values())

    # -- uploads -----------------------------------------------------------------------------------------

    def issue_upload(self, agent: Agent, file_name: str, content_type: str, prefix: str | None = None) -> Upload:
        """Issue a signed upload for ``agent``.

        :param agent: the requesting agent.
        :param file_name: the requested file name.
        :param content_type: the requested content type.
        :param prefix: storage path prefix; ``prompt-files/<agent id>`` when omitted.
        """
        prefix = prefix if prefix is not None else f"prompt-files/{agent.id}"
        upload = Upload(
            token=uuid.uuid4().hex,
            agent_id=agent.id,
            file_name=file_name,
            content_type=content_type,
            storage_path=f"{prefix}/{uuid.uuid4()}/{file_name}",
        )
        with self._lock:
            self._uploads[upload.token] = upload
        return upload

    def store_upload(self, token: str, size: int, data: bytes | None = None) -> Upload:
        """Record what was PUT to a signed URL: its size, and its bytes when small.

        :param token: the token of the signed URL.
        :param size: how many bytes were received.
        :param data: the bytes, when at most :data:`KEPT_UPLOAD_BYTES` (else ``None``).
        :raises KeyError: if no such URL was issued.
        """
        with self._lock:
            upload = replace(self._uploads[token], size=size, data=data)
            self._uploads[token] = upload
            return upload

    def upload(self, token: str) -> Upload:
        """Return an issued upload.

        :param token: the token of the signed URL.
        :raises KeyError: if no such URL was issued.
        """
        with self._lock:
            return self._uploads[token]

    def upload_for_path(self, agent_id: str, storage_path: str) -> Upload | None:
        """Return the upload ``agent_id`` was issued for ``storage_path``, if any.

        :param agent_id: the agent citing the path.
        :param storage_path: a ``storagePath``.
        """
        with self._lock:
            for upload in self._uploads.values():
                if upload.agent_id == agent_id and upload.storage_path == storage_path:
                    return upload
        return None

    def unissued_paths(self, agent_id: str, storage_paths: Sequence[str]) -> list[int]:
        """Return the indexes of ``storage_paths`` that were never issued to ``agent_id``.

        :param agent_id: the agent citing the paths.
        :param storage_paths: ``storagePath`` values from a prompt's ``files``.
        """
        with self._lock:
            issued = {u.storage_path for u in self._uploads.values() if u.agent_id == agent_id}
        return [index for index, path in enumerate(storage_paths) if path not in issued]

    def uploads(self) -> list[Upload]:
        """Every issued upload, oldest first."""
        with self._lock:
            return list(self._uploads.values())

    # -- reset -------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start: default agent only, no prompts, uploads, faults or log; initial knobs."""
        with self._lock:
            self._agents = {self.default_agent.key: self.default_agent}
            self._prompts = {}
            self._uploads = {}
            self.workspace.reset()
            self._config = self._initial_config
            self.limiter.configure(self._config.rate_limit, self._config.burst)
            self.faults.clear()
            self.log.clear()
