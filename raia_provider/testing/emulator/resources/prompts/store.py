"""Async prompts: stored when created, settled on the first poll at or after they are due.

A prompt created at ``t`` with the ``prompt_delay`` knob ``d`` settles on the first poll at or after ``t + d``
(computed when polled; no background task). With ``prompt_delay=None`` new prompts stay pending until
completed or failed through the control API. The delay is fixed when the prompt is created, so changing the
knob only affects new prompts. A settled prompt counts its tokens into the agent's usage, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from raia_provider.testing.emulator.answers import (
    FAILURE_MESSAGE,
    ArrivedFile,
    Outcome,
    PromptStatus,
    answer_for,
    count_tokens,
    failed_outcome,
    outcome_for,
)
from raia_provider.testing.emulator.config import JsonAnswers
from raia_provider.testing.emulator.resources.usage.store import UsageStore
from raia_provider.testing.emulator.storage import Store, StoreContext, Table

if TYPE_CHECKING:
    from raia_provider.testing.emulator.state import Agent


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
    :param files: the attached files with what their signed URLs had received when it was sent.
    :param output_json_schema: the agent's output JSON Schema when it was sent (its answer is then JSON).
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
    files: tuple[ArrivedFile, ...] = ()
    output_json_schema: dict[str, Any] | None = field(default=None, repr=False)

    def answer(self, json_answers: JsonAnswers) -> tuple[str, int]:
        """The deterministic answer text and token count (see :func:`~...answers.answer_for`).

        :param json_answers: the ``json_answers`` knob in force.
        """
        return answer_for(
            self.prompt,
            self.agent_name,
            files=self.files,
            output_schema=self.output_json_schema,
            json_answers=json_answers,
        )

    @property
    def status(self) -> PromptStatus:
        """``pending`` until settled, then the outcome's status."""
        return "pending" if self.outcome is None else self.outcome.status


class PromptStore(Store):
    """Every async prompt, by id (an agent only ever sees its own).

    :param context: the shared store context.
    :param usage: where settled prompts count their tokens.
    """

    def __init__(self, context: StoreContext, *, usage: UsageStore) -> None:
        super().__init__(context)
        self._usage = usage
        self._prompts: Table[PromptRecord] = context.table(attrgetter("id"))

    def create_prompt(
        self, agent: Agent, prompt: str, token_tracking_id: str | None, files: Sequence[ArrivedFile]
    ) -> PromptRecord:
        """Store a new async prompt, due after the current ``prompt_delay``.

        :param agent: the owner (its name and output schema answer the prompt).
        :param prompt: the prompt text.
        :param token_tracking_id: the optional ``tokenTrackingId``.
        :param files: attached files, with what their signed URLs received.
        """
        now = self._now()
        delay = self._context.config.prompt_delay
        record = PromptRecord(
            id=str(uuid.uuid4()),
            agent_id=agent.id,
            agent_name=agent.name,
            prompt=prompt,
            token_tracking_id=token_tracking_id,
            file_names=tuple(item.file_name for item in files),
            created_at=now,
            due_at=None if delay is None else now + delay,
            files=tuple(files),
            output_json_schema=agent.output_json_schema,
        )
        with self._lock:
            return self._prompts.save(record)

    def poll_prompt(self, agent_id: str, prompt_id: str) -> PromptRecord | None:
        """Poll a prompt: settle it if due, count the poll, and return it.

        :param agent_id: the polling agent; another agent's prompt is reported as unknown.
        :param prompt_id: the ``promptId``.
        :return: the prompt after this poll, or ``None`` if unknown to this agent.
        """
        now = self._now()
        with self._lock:
            record = self._prompts.find(prompt_id)
            if record is None or record.agent_id != agent_id:
                return None
            if record.outcome is None and record.due_at is not None and now >= record.due_at:
                record = self._settle(record, self._outcome(record))
            return self._prompts.save(replace(record, polls=record.polls + 1))

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
            record = self._prompts.get(prompt_id)
            if response is None:
                response, tokens = record.answer(self._context.config.json_answers)
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
            return self._settle(self._prompts.get(prompt_id), failed_outcome(error))

    def _outcome(self, record: PromptRecord) -> Outcome:
        return outcome_for(
            record.prompt,
            record.agent_name,
            files=record.files,
            output_schema=record.output_json_schema,
            json_answers=self._context.config.json_answers,
        )

    def _settle(self, record: PromptRecord, outcome: Outcome) -> PromptRecord:
        if record.outcome is None:
            self.record_prompt_usage(record.agent_id, outcome)
        return self._prompts.save(replace(record, outcome=outcome))

    def record_prompt_usage(self, agent_id: str, outcome: Outcome) -> None:
        """Count a settled prompt's tokens into the agent's usage (once per prompt).

        :param agent_id: the prompt's agent.
        :param outcome: the settled outcome.
        """
        if outcome.total_tokens:
            self._usage.record_usage(agent_id, "tokens", outcome.total_tokens)

    def prompts(self) -> list[PromptRecord]:
        """Every stored async prompt, oldest first."""
        with self._lock:
            return self._prompts.rows()
