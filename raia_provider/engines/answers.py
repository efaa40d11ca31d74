"""Answers as data: parse an agent's answer as JSON and check it against an output schema.

A pipeline rarely wants free text: it wants a label, a score, extracted fields. ``output_format="json"``
parses the answer; ``output_schema`` (a JSON Schema dict, or a pydantic model class) also validates it. An
answer that is not JSON, or breaks the schema, is a :class:`~raia_provider.exceptions.RaiaAnswerFormatError`
naming the JSON path and the reason, with the raw answer kept.

With neither argument, the agent's own output schema applies when its profile has one enabled
(``isOutputJsonSchemaEnabled`` and ``outputJsonSchema``): :func:`agent_answer_shape` reads the profile once per
task. ``output_format="text"`` keeps the answer as text and spares that request.

Agents configured to answer in JSON often still wrap it in a Markdown code fence (```` ```json ... ``` ````);
an answer that is exactly one fenced block is read as its content. Nothing else is stripped or repaired.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from raia_provider.exceptions import RaiaAnswerFormatError, RaiaInputError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from raia_provider.hooks.raia import RaiaHook

log = logging.getLogger(__name__)

OutputFormat = Literal["text", "json"]
OUTPUT_FORMATS: Final = ("text", "json")
#: How much of a bad answer a message quotes; the whole answer stays on the exception.
_QUOTED: Final = 200
_FENCED = re.compile(r"\A\s*```(?:json|JSON)?[ \t]*\n(?P<body>.*?)\n?```\s*\Z", re.DOTALL)


@dataclass(frozen=True)
class AnswerShape:
    """What an answer must be: JSON, and (optionally) valid against a schema.

    Build it with :meth:`from_arguments`, which checks the arguments before any request.

    :param schema: a JSON Schema (checked to be a valid one), or ``None``.
    :param model: a pydantic model class, or ``None``.
    """

    schema: Mapping[str, Any] | None = None
    model: type[BaseModel] | None = None

    @classmethod
    def from_arguments(cls, *, output_format: Any, output_schema: Any, owner: str) -> AnswerShape | None:
        """The shape an operator's arguments ask for, or ``None`` for a free-text answer.

        :param output_format: ``"text"`` (or ``None``) or ``"json"``.
        :param output_schema: ``None``, a JSON Schema dict or a pydantic model class; implies JSON.
        :param owner: who is asking, for messages (e.g. ``RaiaPromptOperator 'ask'``).
        :raises RaiaInputError: naming the argument, what was wrong and what is allowed.
        """
        if output_format not in (None, *OUTPUT_FORMATS):
            raise RaiaInputError(
                f"{owner}: argument 'output_format' must be one of {OUTPUT_FORMATS!r} or None, got {output_format!r}."
            )
        if output_schema is None:
            return cls() if output_format == "json" else None
        if output_format == "text":
            raise RaiaInputError(
                f"{owner}: argument 'output_schema' asks for JSON, but 'output_format' is 'text'; leave "
                "output_format unset (or 'json') with an output_schema."
            )
        if isinstance(output_schema, type) and _is_pydantic_model(output_schema):
            return cls(model=output_schema)
        if isinstance(output_schema, Mapping):
            from jsonschema.exceptions import SchemaError
            from jsonschema.validators import validator_for

            try:
                validator_for(output_schema).check_schema(output_schema)
            except SchemaError as error:
                where = "/".join(str(part) for part in error.path) or "the top level"
                raise RaiaInputError(
                    f"{owner}: argument 'output_schema' is not a valid JSON Schema (at {where}: {error.message})."
                ) from None
            return cls(schema=output_schema)
        raise RaiaInputError(
            f"{owner}: argument 'output_schema' must be a JSON Schema (a dict) or a pydantic model class, got "
            f"{type(output_schema).__name__}."
        )

    @classmethod
    def from_agent_schema(cls, enabled: bool | None, schema_text: str | None) -> AnswerShape | None:
        """The shape an agent profile's output JSON schema asks for; ``None`` when it is not enabled.

        raia sends the schema as a JSON string. One that is blank, or not a valid JSON Schema, still means the
        agent answers in JSON: the answer is parsed, not validated (with a warning).

        :param enabled: the profile's ``isOutputJsonSchemaEnabled``.
        :param schema_text: the profile's ``outputJsonSchema``.
        """
        if not enabled:
            return None
        if not schema_text or not schema_text.strip():
            return cls()
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        try:
            schema = json.loads(schema_text)
            if not isinstance(schema, dict):
                raise ValueError(f"it is a JSON {type(schema).__name__}, not an object")
            validator_for(schema).check_schema(schema)
        except (ValueError, SchemaError) as error:
            reason = error.message if isinstance(error, SchemaError) else str(error)
            log.warning(
                "The agent's output JSON schema cannot be used (%s); answers are parsed, not validated.", reason
            )
            return cls()
        return cls(schema=schema)

    @property
    def portable_schema(self) -> dict[str, Any] | None:
        """The JSON Schema as plain JSON, to carry through a deferral (``None`` for a pydantic model)."""
        return None if self.schema is None else dict(self.schema)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a batch writes for each answer: the schema's properties or the model's fields, in their
        order; ``answer`` (the whole parsed value) when neither names any."""
        if self.model is not None and self.model.model_fields:
            return tuple(self.model.model_fields)
        properties = self.schema.get("properties") if self.schema is not None else None
        if isinstance(properties, Mapping) and properties:
            return tuple(str(name) for name in properties)
        return ("answer",)

    def row_columns(self, data: Any) -> dict[str, Any]:
        """A batch row's answer columns; all ``None`` for a row without a parsed answer.

        :param data: what :meth:`parse` returned for the row, or ``None``.
        """
        if self.columns == ("answer",):
            return {"answer": data}
        values = data if isinstance(data, Mapping) else {}
        return {name: values.get(name) for name in self.columns}

    def parse(self, answer: str | None) -> Any:
        """The answer as data: parsed, validated, and (for a model) dumped to plain JSON types.

        :param answer: the agent's answer text.
        :raises RaiaAnswerFormatError: the answer is not JSON, or does not match the schema.
        """
        value = self._decode(answer)
        if self.model is not None:
            return self._validate_with_model(value, answer)
        if self.schema is not None:
            self._validate_with_schema(value, answer)
        return value

    @staticmethod
    def _decode(answer: str | None) -> Any:
        if answer is None or not answer.strip():
            raise _bad(answer, "$", "the answer is empty")
        fenced = _FENCED.match(answer)
        text = fenced.group("body") if fenced else answer
        try:
            return json.loads(text)
        except RecursionError:
            raise _bad(answer, "$", "the answer is JSON nested too deeply to read") from None
        except ValueError as error:
            raise _bad(answer, "$", f"the answer is not valid JSON ({error})") from None

    def _validate_with_schema(self, value: Any, answer: str | None) -> None:
        from jsonschema.exceptions import best_match
        from jsonschema.validators import validator_for

        assert self.schema is not None
        validator = validator_for(self.schema)(self.schema)
        error = best_match(validator.iter_errors(value))
        if error is not None:
            raise _bad(answer, error.json_path, error.message)

    def _validate_with_model(self, value: Any, answer: str | None) -> Any:
        from pydantic import ValidationError

        assert self.model is not None
        try:
            return self.model.model_validate(value).model_dump(mode="json")
        except ValidationError as error:
            first = error.errors()[0]
            path = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
            more = error.error_count() - 1
            raise _bad(answer, path, first["msg"] + (f" (and {more} more)" if more else "")) from None


def _is_pydantic_model(candidate: type) -> bool:
    from pydantic import BaseModel

    return issubclass(candidate, BaseModel)


def _bad(answer: str | None, path: str, reason: str) -> RaiaAnswerFormatError:
    quoted = (answer or "")[:_QUOTED] + ("..." if answer and len(answer) > _QUOTED else "")
    return RaiaAnswerFormatError(
        f"The agent's answer does not match the output asked for, at {path}: {reason}. Its answer: {quoted!r}. "
        "Tell the agent to answer with JSON only, matching the schema (its instructions in raia, or the output "
        "JSON schema of its profile), or loosen the schema.",
        path=path,
        reason=reason,
        answer=answer,
    )


def agent_answer_shape(hook: RaiaHook) -> AnswerShape | None:
    """The agent's own output schema, when its profile has one enabled (one ``GET /agents/by-api-key``).

    :param hook: the hook of the connection whose agent answers.
    """
    config = hook.get_agent().ai_config
    shape = AnswerShape.from_agent_schema(config.is_output_json_schema_enabled, config.output_json_schema)
    if shape is not None:
        log.info(
            "The agent answers in JSON (its profile's output schema): answers are parsed%s.",
            " and validated" if shape.schema is not None else "",
        )
    return shape
