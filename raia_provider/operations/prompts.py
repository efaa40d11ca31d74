"""raia's prompt operations: one-shot questions to the agent, without a conversation."""

from __future__ import annotations

from pydantic import Field

from raia_provider._core.endpoint import AsyncEndpoint, Endpoint
from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.base import Id
from raia_provider.models.prompts import PromptBody, PromptJob, PromptResult, SignedUploadUrl


class ProcessPrompt(PromptBody, RaiaRequest[PromptResult]):
    """Ask the agent and wait for the answer in the same call.

    :param prompt: the question; must contain more than whitespace.
    :param token_tracking_id: a free-form tag raia stores with the token usage.
    :param files: files attached to the prompt (see ``create_prompt_upload_url``).
    """

    operation = Operation("POST", "/prompts", "ExternalApiPromptsController_processPromptSync")


class CreatePrompt(PromptBody, RaiaRequest[PromptJob]):
    """Submit a prompt to be answered in the background; returns its ``promptId`` to poll.

    :param prompt: the question; must contain more than whitespace.
    :param token_tracking_id: a free-form tag raia stores with the token usage.
    :param files: files attached to the prompt (see ``create_prompt_upload_url``).
    """

    operation = Operation("POST", "/prompts/async", "ExternalApiPromptsController_createPromptJob")


class GetPromptResponse(RaiaRequest[PromptResult | None]):
    """Poll an async prompt: ``None`` (raia's JSON ``null``) or ``status="pending"`` mean not ready yet.

    :param prompt_id: the ``promptId`` returned when the prompt was created.
    """

    operation = Operation("GET", "/prompts/{id}/response-on", "ExternalApiPromptsController_getResponseOnPrompt")
    prompt_id: Id = Field(alias="id")


class CreatePromptUploadUrl(RaiaRequest[SignedUploadUrl]):
    """Get a signed URL to upload a file that a prompt can then reference by its ``storagePath``.

    :param file_name: the file's name, e.g. ``chart.png``.
    :param content_type: its MIME type, e.g. ``image/png``.
    """

    operation = Operation("POST", "/prompts/upload-url", "ExternalApiPromptsController_createPromptFileSignedUploadUrl")
    file_name: str = Field(min_length=1)
    content_type: str = Field(min_length=1, pattern=r"^[\w.+-]+/[\w.+-]+")


class PromptEndpoints:
    """``RaiaHook`` methods for the prompt operations (blocking, and ``a``-prefixed async twins)."""

    process_prompt = Endpoint(ProcessPrompt)
    aprocess_prompt = AsyncEndpoint(ProcessPrompt)
    create_prompt = Endpoint(CreatePrompt)
    acreate_prompt = AsyncEndpoint(CreatePrompt)
    get_prompt_response = Endpoint(GetPromptResponse)
    aget_prompt_response = AsyncEndpoint(GetPromptResponse)
    create_prompt_upload_url = Endpoint(CreatePromptUploadUrl)
    acreate_prompt_upload_url = AsyncEndpoint(CreatePromptUploadUrl)
