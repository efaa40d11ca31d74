"""Bodies of the prompt operations (responses are :class:`~raia_provider.testing.emulator.answers.Outcome`)."""

from __future__ import annotations

from typing import Annotated

from raia_provider.testing.emulator.body_fields import NOT_NULL_LIST, RequestBody, RequiredText, Text
from raia_provider.testing.emulator.resources.uploads.wire import CitedFile


class PromptFileBody(CitedFile):
    """An item of ``files`` (spec ``PromptFileBodyDTO``)."""


class PromptBody(RequestBody):
    """Body of ``POST /external/prompts`` and ``/async`` (spec ``ProcessPromptBodyDTO`` / ``CreatePromptBodyDTO``)."""

    prompt: RequiredText
    tokenTrackingId: Text = None
    files: Annotated[list[PromptFileBody] | None, NOT_NULL_LIST] = None
