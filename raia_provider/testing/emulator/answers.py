"""Deterministic answers of the emulated agent.

Tests assert on exact text, so every answer is a pure function of the prompt, the agent's name and the
names of the attached files. A prompt containing :data:`FAIL_MARKER` fails, on the sync and the async path;
so does a conversation message, and an agent file whose name contains it fails its vector-store upload.
Conversation messages are answered with the same :func:`answer_for` text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

FAIL_MARKER = "[[fail]]"
"""Put this anywhere in a prompt to make the emulated agent fail it."""

FAILURE_MESSAGE = "The agent could not process the prompt (emulated failure)."
"""The ``error`` text of a prompt failed by :data:`FAIL_MARKER`."""

MESSAGE_FAILURE_MESSAGE = "The agent could not process the message (emulated failure)."
"""The ``error`` of a conversation message failed by :data:`FAIL_MARKER` (or by the control API)."""

PromptStatus = Literal["pending", "completed", "failed"]


@dataclass(frozen=True)
class Outcome:
    """The settled result of a prompt, in the fields of raia's prompt response DTO.

    :param status: ``completed`` or ``failed``.
    :param response: the answer text (``None`` when failed).
    :param total_tokens: the token count (``None`` when failed).
    :param error: the error text (``None`` when completed).
    """

    status: PromptStatus
    response: str | None
    total_tokens: int | None
    error: str | None

    def to_dto(self) -> dict[str, object]:
        """Render as raia's ``ProcessPromptResponseDTO`` (all four keys, always present)."""
        return {
            "status": self.status,
            "totalTokens": self.total_tokens,
            "response": self.response,
            "error": self.error,
        }


PENDING_DTO: dict[str, object] = {"status": "pending", "totalTokens": None, "response": None, "error": None}
"""The "not ready yet" DTO, used when the pending style is ``status``."""


def answer_for(prompt: str, agent_name: str, *, file_names: Sequence[str] = ()) -> tuple[str, int]:
    """Return the emulated answer to ``prompt`` and its token count.

    The token count is the number of whitespace-separated words in the prompt plus those in the answer,
    so it is easy to recompute in a test.

    :param prompt: the prompt text.
    :param agent_name: the name of the agent answering.
    :param file_names: names of the files attached to the prompt, mentioned at the end of the answer.
    :return: ``(response_text, total_tokens)``.
    """
    text = f"[{agent_name}] answer to: {prompt}"
    if file_names:
        text += f" [files: {', '.join(file_names)}]"
    return text, count_tokens(prompt, text)


def count_tokens(prompt: str, response: str) -> int:
    """Return the emulated token count: words in the prompt plus words in the response.

    :param prompt: the prompt text.
    :param response: the response text.
    """
    return len(prompt.split()) + len(response.split())


def outcome_for(prompt: str, agent_name: str, *, file_names: Sequence[str] = ()) -> Outcome:
    """Settle a prompt: failed if it carries :data:`FAIL_MARKER`, else completed with :func:`answer_for`.

    :param prompt: the prompt text.
    :param agent_name: the name of the agent answering.
    :param file_names: names of the attached files.
    """
    if FAIL_MARKER in prompt:
        return failed_outcome(FAILURE_MESSAGE)
    text, tokens = answer_for(prompt, agent_name, file_names=file_names)
    return Outcome(status="completed", response=text, total_tokens=tokens, error=None)


def failed_outcome(error: str) -> Outcome:
    """Return a failed outcome carrying ``error``.

    :param error: the error text raia would report.
    """
    return Outcome(status="failed", response=None, total_tokens=None, error=error)
