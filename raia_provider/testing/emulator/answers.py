"""Deterministic answers of the emulated agent.

Tests assert on exact text, so every answer is a pure function of the prompt, the agent's name and output
JSON Schema, the ``json_answers`` knob and what arrived for the attached files. A prompt containing
:data:`FAIL_MARKER` fails, on the sync and the async path; so does a conversation message, and an agent file
whose name contains it fails its vector-store upload. Conversation messages are answered with the same
:func:`answer_for` text.

A text answer is ``[<agent name>] answer to: <prompt>``; when the prompt (or message) cites files it ends with
what the storage service received for each cited ``storagePath`` (the bytes of the last ``PUT`` to its
signed URL; :meth:`ArrivedFile.describe`)::

    [Test Agent] answer to: Summarise [files: a.pdf (1234 bytes, sha256 0123456789abcdef), b.txt (not uploaded)]

so a test can tell that the right bytes reached storage (``sha256`` shows the first 16 hex digits of the
SHA-256 of the bytes). An agent with an output JSON Schema answers with JSON text instead (see
:mod:`.structured_answers`), without the files note: ``valid`` JSON following the schema by default; the
``json_answers`` knob (``invalid``, ``mismatch``) or the markers :data:`INVALID_JSON_MARKER` and
:data:`SCHEMA_MISMATCH_MARKER` anywhere in one prompt make it answer text that is not JSON, or JSON breaking
the schema. The markers act only on an agent with a schema, and win over the knob; the fail marker wins over
both. The token count is :func:`count_tokens` of the prompt and the answer, whatever its form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from raia_provider.testing.emulator.config import JsonAnswers
from raia_provider.testing.emulator.structured_answers import instance_for, invalid_json, mismatched

FAIL_MARKER = "[[fail]]"
"""Put this anywhere in a prompt to make the emulated agent fail it."""

FAILURE_MESSAGE = "The agent could not process the prompt (emulated failure)."
"""The ``error`` text of a prompt failed by :data:`FAIL_MARKER`."""

MESSAGE_FAILURE_MESSAGE = "The agent could not process the message (emulated failure)."
"""The ``error`` of a conversation message failed by :data:`FAIL_MARKER` (or by the control API)."""

INVALID_JSON_MARKER = "[[invalid-json]]"
"""Put this anywhere in a prompt to an agent with an output schema: its answer is not JSON."""

SCHEMA_MISMATCH_MARKER = "[[schema-mismatch]]"
"""Put this anywhere in a prompt to an agent with an output schema: its answer is JSON breaking the schema."""

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


@dataclass(frozen=True)
class ArrivedFile:
    """A file a prompt or message cites, with what its signed URL received.

    :param file_name: the cited ``fileName``.
    :param size: bytes received, ``None`` if nothing was uploaded.
    :param sha256: their SHA-256 (hex), ``None`` if nothing was uploaded.
    """

    file_name: str
    size: int | None = None
    sha256: str | None = None

    def describe(self) -> str:
        """``a.pdf (1234 bytes, sha256 <first 16 hex digits>)``, or ``b.txt (not uploaded)``."""
        if self.size is None or self.sha256 is None:
            return f"{self.file_name} (not uploaded)"
        return f"{self.file_name} ({self.size} bytes, sha256 {self.sha256[:16]})"


def files_note(files: Sequence[ArrivedFile]) -> str:
    """The end of a text answer citing ``files``: `` [files: ...]`` (empty without files).

    :param files: the cited files, in the order cited.
    """
    return f" [files: {', '.join(item.describe() for item in files)}]" if files else ""


def json_answer(
    schema: Mapping[str, Any], prompt: str, json_answers: JsonAnswers = "valid", files: Sequence[ArrivedFile] = ()
) -> str:
    """The answer text of an agent with an output schema: JSON per the knob, unless a marker says otherwise.

    The values are generated from the prompt and the hashes of the files that arrived, so the same question
    about different documents (a batch's ``file_field``) gets different answers.

    :param schema: the agent's output JSON Schema.
    :param prompt: the prompt text (its markers win over the knob).
    :param json_answers: the ``json_answers`` knob.
    :param files: the files attached to the prompt.
    """
    seed = prompt + "".join(f"\x00{item.sha256}" for item in files if item.sha256)
    if INVALID_JSON_MARKER in prompt:
        json_answers = "invalid"
    elif SCHEMA_MISMATCH_MARKER in prompt:
        json_answers = "mismatch"
    if json_answers == "mismatch":
        return json.dumps(mismatched(schema, seed))
    value = instance_for(schema, seed)
    return invalid_json(value) if json_answers == "invalid" else json.dumps(value)


def answer_for(
    prompt: str,
    agent_name: str,
    *,
    files: Sequence[ArrivedFile] = (),
    output_schema: Mapping[str, Any] | None = None,
    json_answers: JsonAnswers = "valid",
) -> tuple[str, int]:
    """Return the emulated answer to ``prompt`` and its token count.

    The token count is the number of whitespace-separated words in the prompt plus those in the answer,
    so it is easy to recompute in a test.

    :param prompt: the prompt text.
    :param agent_name: the name of the agent answering.
    :param files: the files attached to the prompt, described at the end of a text answer.
    :param output_schema: the agent's output JSON Schema; with one the answer is JSON (:func:`json_answer`).
    :param json_answers: the ``json_answers`` knob (only read with a schema).
    :return: ``(response_text, total_tokens)``.
    """
    if output_schema is not None:
        text = json_answer(output_schema, prompt, json_answers, files)
    else:
        text = f"[{agent_name}] answer to: {prompt}{files_note(files)}"
    return text, count_tokens(prompt, text)


def count_tokens(prompt: str, response: str) -> int:
    """Return the emulated token count: words in the prompt plus words in the response.

    :param prompt: the prompt text.
    :param response: the response text.
    """
    return len(prompt.split()) + len(response.split())


def outcome_for(
    prompt: str,
    agent_name: str,
    *,
    files: Sequence[ArrivedFile] = (),
    output_schema: Mapping[str, Any] | None = None,
    json_answers: JsonAnswers = "valid",
) -> Outcome:
    """Settle a prompt: failed if it carries :data:`FAIL_MARKER`, else completed with :func:`answer_for`.

    :param prompt: the prompt text.
    :param agent_name: the name of the agent answering.
    :param files: the attached files.
    :param output_schema: the agent's output JSON Schema, if any.
    :param json_answers: the ``json_answers`` knob.
    """
    if FAIL_MARKER in prompt:
        return failed_outcome(FAILURE_MESSAGE)
    text, tokens = answer_for(prompt, agent_name, files=files, output_schema=output_schema, json_answers=json_answers)
    return Outcome(status="completed", response=text, total_tokens=tokens, error=None)


def failed_outcome(error: str) -> Outcome:
    """Return a failed outcome carrying ``error``.

    :param error: the error text raia would report.
    """
    return Outcome(status="failed", response=None, total_tokens=None, error=error)
