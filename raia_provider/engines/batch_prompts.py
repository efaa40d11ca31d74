"""A batch's prompt: one Jinja template rendered per row, and the digest that ties an answer to its question."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from raia_provider.engines.batch_input import Row
from raia_provider.exceptions import RaiaInputError

if TYPE_CHECKING:
    from jinja2 import Template


def compile_template(source: str) -> Template:
    """Compile ``source`` in a sandbox where an undefined variable is an error.

    :param source: the Jinja text.
    :raises RaiaInputError: if it is not valid Jinja, naming the line.
    """
    from jinja2 import StrictUndefined, TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False).from_string(source)
    except TemplateSyntaxError as error:
        raise RaiaInputError(
            f"argument 'prompt_template' is not valid Jinja (line {error.lineno}): {error.message}"
        ) from None


class PromptRenderer:
    """Render a row's prompt and its digest; the same row renders the same prompt each time it is read.

    :param source: the Jinja template.
    :param context: the task's context, seen by the template beside the row's fields.
    :param token_tracking_id: sent with every prompt; part of the digest, so changing it asks the rows again.
    """

    def __init__(self, source: str, context: Mapping[str, Any], token_tracking_id: str | None) -> None:
        self._template = compile_template(source)
        self._base = dict(context)
        self._token_tracking_id = token_tracking_id

    def render(self, row: Row) -> str:
        """The row's prompt.

        :param row: the row.
        :raises Exception: whatever the template raises for this row (jinja2's ``UndefinedError`` ...).
        """
        return self._template.render({**self._base, **row.record, "record": row.record, "row_number": row.number})

    def digest(self, prompt: str) -> str:
        """What a checkpointed answer must match to be reused: the prompt and ``token_tracking_id``.

        :param prompt: the rendered prompt.
        """
        return hashlib.sha256(json.dumps([prompt, self._token_tracking_id]).encode()).hexdigest()
