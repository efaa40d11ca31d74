"""Bodies of raia's prompt operations (``/prompts``, ``/prompts/async``, ``response-on``, ``upload-url``).

Spec schemas mirrored: ``ProcessPromptBodyDTO`` / ``CreatePromptBodyDTO`` (:class:`PromptBody`),
``PromptFileBodyDTO`` (:class:`PromptFile`), ``ProcessPromptResponseDTO`` /
``GetResponseOnPromptResponseDTO`` (:class:`PromptResult`), ``CreatePromptResponseDTO``
(:class:`PromptJob`), ``CreatePromptFileSignedUploadUrl*DTO`` (:class:`SignedUploadUrl`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from raia_provider.models.base import NonBlankStr, RaiaBody, RaiaModel

PromptStatus = Literal["pending", "completed", "failed"]


class PromptFile(RaiaBody):
    """A file attached to a prompt, uploaded first through :class:`SignedUploadUrl`.

    :param file_name: the file's name (``fileName``).
    :param storage_path: the ``storagePath`` returned by ``POST /prompts/upload-url``.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("PromptFileBodyDTO",)

    file_name: str = Field(min_length=1)
    storage_path: str = Field(min_length=1)


class PromptBody(RaiaBody):
    """The fields of a prompt, shared by the sync and the async prompt operations.

    :param prompt: the question for the agent; must contain more than whitespace.
    :param token_tracking_id: a free-form tag raia stores with the token usage (``tokenTrackingId``).
    :param files: files attached to the prompt (uploaded first through the upload URL).
    """

    prompt: NonBlankStr
    token_tracking_id: str | None = None
    files: list[PromptFile] | None = None

    @field_validator("token_tracking_id")
    @classmethod
    def _tracking_id_has_text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be omitted (None) or contain text")
        return value


class PromptResult(RaiaModel):
    """A prompt's outcome: the answer, its token count, or raia's error.

    raia marks all four fields required and three nullable. The older published revision answered
    ``{"totalTokens": ..., "response": ...}`` without ``status``/``error``; such a body is read as completed.

    :param status: ``pending``, ``completed`` or ``failed``.
    :param total_tokens: tokens used (``totalTokens``); may be ``null`` even when completed.
    :param response: the agent's answer; ``null`` unless completed.
    :param error: raia's error text; set when failed.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ProcessPromptResponseDTO", "GetResponseOnPromptResponseDTO")

    status: PromptStatus
    total_tokens: int | None
    response: str | None
    error: str | None

    @model_validator(mode="before")
    @classmethod
    def _accept_legacy_body(cls, data: Any) -> Any:
        if isinstance(data, dict) and "status" not in data and "response" in data and "error" not in data:
            return {**data, "status": "completed", "error": None}
        return data


class PromptJob(RaiaModel):
    """The id of an async prompt, to poll with ``response-on``.

    :param prompt_id: raia's opaque prompt id (``promptId``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("CreatePromptResponseDTO",)

    prompt_id: str = Field(min_length=1)


class SignedUploadUrl(RaiaModel):
    """Where to upload a file for a prompt, and the path to name it by afterwards.

    :param signed_url: a pre-signed URL to upload the bytes to (``signedUrl``).
    :param storage_path: the path to pass in a prompt's ``files`` (``storagePath``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("CreatePromptFileSignedUploadUrlResponseDTO",)

    signed_url: str
    storage_path: str
