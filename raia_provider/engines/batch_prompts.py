"""A batch's prompt: one Jinja template rendered per row, and the digest that ties an answer to its question."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from raia_provider.engines.batch_input import Row
from raia_provider.exceptions import RaiaInputError

if TYPE_CHECKING:
    from jinja2 import Template

#: Rows a template error shows in full; the rest are counted.
SHOWN_ROWS: Final = 3
#: Field names a template error lists before it says how many more there are.
SHOWN_FIELDS: Final = 30


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

    def digest(self, prompt: str, file_identity: str | None = None) -> str:
        """What a checkpointed answer must match to be reused: the prompt, ``token_tracking_id`` and the
        identity of the row's file, if it attaches one.

        :param prompt: the rendered prompt.
        :param file_identity: the attached file's identity (location, size, modification time), if any.
        """
        parts: list[Any] = [prompt, self._token_tracking_id]
        if file_identity is not None:  # rows without a file keep the digests earlier checkpoints hold
            parts.append(file_identity)
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class TemplateProblems:
    """The rows whose prompt cannot be rendered, gathered over the whole input for one error.

    A template that uses a field most rows lack fails on every row; the error says how many rows fail,
    shows the first few, and lists the fields the rows do have, which is usually the fix (a misspelt or
    renamed column).
    """

    def __init__(self) -> None:
        self.failing = 0
        self._shown: list[str] = []
        self._fields: dict[str, None] = {}  # insertion-ordered: the columns in the order the rows have them

    def add(self, row: Row, problem: str) -> None:
        """Count a row that cannot be rendered.

        :param row: the row.
        :param problem: what went wrong, e.g. ``UndefinedError: 'country' is undefined``.
        """
        self.failing += 1
        if len(self._shown) < SHOWN_ROWS:
            self._shown.append(f"row {row.number} (key {row.key!r}): {problem}")
        for name in row.record:
            self._fields.setdefault(str(name))

    def error(self, rows: int) -> RaiaInputError:
        """The error that fails the task; only for a survey in which :attr:`failing` is above 0.

        :param rows: how many rows the batch covers.
        """
        fields = list(self._fields)
        listed = ", ".join(repr(name) for name in fields[:SHOWN_FIELDS])
        if len(fields) > SHOWN_FIELDS:
            listed += f" and {len(fields) - SHOWN_FIELDS} more"
        more = self.failing - len(self._shown)
        return RaiaInputError(
            f"argument 'prompt_template' cannot be rendered for every row: {self.failing} of {rows} rows fail; "
            "nothing was sent.\n  "
            + "\n  ".join(self._shown)
            + (f"\n  ... and {more} more row{'s' if more > 1 else ''}" if more else "")
            + f"\nThe failing rows have the fields {listed or 'none'}; the template also sees 'record' (the whole "
            "row), 'row_number' and the task's context (ds, params, ...)."
        )
