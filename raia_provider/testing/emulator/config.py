"""The emulator's knobs: delays, latency, the rate limit, the shapes of not-ready answers and of JSON answers.

They are set when the emulator is made (``RaiaEmulator(...)``, the CLI's flags) and changed at run time with
``configure()`` (``POST /_emulator/config``); ``reset()`` returns to the initial ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict, get_args

PendingStyle = Literal["null", "status", "alternate"]
PENDING_STYLES: tuple[str, ...] = get_args(PendingStyle)
MessageStatusVocabulary = Literal["spec", "release_notes"]
MESSAGE_STATUS_VOCABULARIES: tuple[str, ...] = get_args(MessageStatusVocabulary)
JsonAnswers = Literal["valid", "invalid", "mismatch"]
JSON_ANSWERS: tuple[str, ...] = get_args(JsonAnswers)


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
    json_answers: JsonAnswers


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
    :param json_answers: what an agent with an output JSON Schema answers: ``valid`` (JSON following the
        schema), ``invalid`` (not JSON: the JSON with its last closing brace cut off) or ``mismatch`` (JSON
        breaking the schema: a required property missing, or a wrong type). Read when the answer is made;
        the ``[[invalid-json]]`` / ``[[schema-mismatch]]`` markers override it for one prompt (see
        :mod:`.answers`).
    """

    prompt_delay: float | None = 0.2
    latency: float = 0.0
    pending_style: PendingStyle = "null"
    rate_limit: float | None = None
    burst: int | None = None
    message_delay: float | None = 0.2
    message_status_vocabulary: MessageStatusVocabulary = "spec"
    vector_store_delay: float | None = 0.2
    json_answers: JsonAnswers = "valid"

    def __post_init__(self) -> None:
        for name in ("prompt_delay", "message_delay", "vector_store_delay"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")
        if self.message_status_vocabulary not in MESSAGE_STATUS_VOCABULARIES:
            raise ValueError(f"message_status_vocabulary must be one of {', '.join(MESSAGE_STATUS_VOCABULARIES)}")
        if self.json_answers not in JSON_ANSWERS:
            raise ValueError(f"json_answers must be one of {', '.join(JSON_ANSWERS)}")
        if self.latency < 0:
            raise ValueError("latency must not be negative")
        if self.pending_style not in PENDING_STYLES:
            raise ValueError(f"pending_style must be one of {', '.join(PENDING_STYLES)}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be positive")
        if self.burst is not None and self.burst < 1:
            raise ValueError("burst must be at least 1")
