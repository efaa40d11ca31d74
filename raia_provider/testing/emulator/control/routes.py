"""The ``/_emulator`` routes: the control operations (:mod:`.operations`) over HTTP, for an emulator in
another process.

JSON field names are the Python names (snake_case); records are answered as their dataclass fields. Errors
use FastAPI's ``{"detail": ...}`` bodies — this API is ours, not raia's: an unknown id (prompt, question,
file, agent, conversation) answers 404, a refused action (completing a settled answer, a bad knob or fault)
400, an agent key already in use 409.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status

from raia_provider.testing.emulator.control.operations import EmulatorControls
from raia_provider.testing.emulator.control.specs import (
    AgentSpec,
    CompleteSpec,
    ConfigSpec,
    ConversationSpec,
    FailSpec,
    FaultSpec,
    MessageCompleteSpec,
    MessageFailSpec,
    OutputSchemaSpec,
    UserSpec,
)
from raia_provider.testing.emulator.deps import OriginDep, StateDep, StorageOriginDep
from raia_provider.testing.emulator.net import CONTROL_PREFIX
from raia_provider.testing.emulator.state import checked_output_schema

router = APIRouter(prefix=CONTROL_PREFIX, tags=["Emulator control"])


def _controls(state: StateDep) -> EmulatorControls:
    return EmulatorControls(state)


ControlsDep = Annotated[EmulatorControls, Depends(_controls)]


def _json(record: Any) -> Any:
    return dataclasses.asdict(record)


@contextlib.contextmanager
def _answered_as_http() -> Iterator[None]:
    """Turn a control operation's ``KeyError`` into a 404 and its ``ValueError`` (or ``TypeError``) into a 400."""
    try:
        yield
    except KeyError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error).strip("'\"")) from None
    except (TypeError, ValueError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error


@router.get("/health")
async def health(state: StateDep, origin: OriginDep, storage: StorageOriginDep) -> dict[str, Any]:
    """Liveness, the ``/external`` base URL, the storage service's origin and the default agent (no key).

    :param state: the emulator state.
    :param origin: the emulator's own origin.
    :param storage: the storage service's origin (where signed URLs point).
    """
    agent = state.default_agent
    return {
        "status": "ok",
        "base_url": f"{origin}/external",
        "storage_url": storage,
        "default_agent": {"id": agent.id, "name": agent.name},
    }


@router.get("/requests")
async def list_requests(controls: ControlsDep, method: str | None = None, path: str | None = None) -> list[Any]:
    """The request log, optionally filtered (``path`` is a pattern).

    :param controls: the emulator's controls.
    :param method: HTTP method filter.
    :param path: path pattern filter.
    """
    return [_json(entry) for entry in controls.requests(method, path)]


@router.delete("/requests", status_code=status.HTTP_204_NO_CONTENT)
async def clear_requests(controls: ControlsDep) -> None:
    """Empty the request log.

    :param controls: the emulator's controls.
    """
    controls.clear_requests()


@router.post("/faults", status_code=status.HTTP_201_CREATED)
async def add_fault(spec: FaultSpec, controls: ControlsDep) -> Any:
    """Add a fault rule.

    :param spec: the rule.
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        return _json(controls.inject_fault(**spec.model_dump()))


@router.get("/faults")
async def list_faults(controls: ControlsDep) -> list[Any]:
    """Pending fault rules, in order.

    :param controls: the emulator's controls.
    """
    return [_json(fault) for fault in controls.faults()]


@router.delete("/faults", status_code=status.HTTP_204_NO_CONTENT)
async def clear_faults(controls: ControlsDep) -> None:
    """Drop every fault rule.

    :param controls: the emulator's controls.
    """
    controls.clear_faults()


@router.post("/config")
async def configure(spec: ConfigSpec, controls: ControlsDep) -> Any:
    """Change knobs; fields left out keep their value (``null`` is a value, e.g. for ``prompt_delay``).

    :param spec: the knobs to change.
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        return _json(controls.configure(**spec.model_dump(exclude_unset=True)))


@router.get("/config")
async def get_config(controls: ControlsDep) -> Any:
    """The current knobs.

    :param controls: the emulator's controls.
    """
    return _json(controls.config)


@router.post("/agents", status_code=status.HTTP_201_CREATED)
async def add_agent(spec: AgentSpec, controls: ControlsDep) -> Any:
    """Create an agent; the answer includes its key (needed when it was generated).

    :param spec: key, name and output JSON Schema (400 if not a JSON Schema).
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        checked_output_schema(spec.output_json_schema)
    try:
        return _json(controls.add_agent(key=spec.key, name=spec.name, output_json_schema=spec.output_json_schema))
    except ValueError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error


@router.put("/agents/{agent}/output-schema")
async def set_agent_output_schema(agent: str, spec: OutputSchemaSpec, controls: ControlsDep) -> Any:
    """Give an agent (by id or key) an output JSON Schema, or take it away with ``null``.

    :param agent: the agent's id or key.
    :param spec: the schema.
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        return _json(controls.set_agent_output_schema(agent, spec.output_json_schema))


@router.get("/uploads")
async def list_uploads(controls: ControlsDep) -> list[Any]:
    """Every signed upload issued, with the size, SHA-256 and content type of what was PUT (not the bytes).

    :param controls: the emulator's controls.
    """
    return [{**_json(upload), "data": None} for upload in controls.uploads()]


@router.get("/key-leaks")
async def list_key_leaks(controls: ControlsDep) -> list[Any]:
    """Storage requests refused for carrying the ``Agent-Secret-Key`` header.

    :param controls: the emulator's controls.
    """
    return [_json(leak) for leak in controls.key_leaks()]


@router.post("/prompts/{prompt_id}/complete")
async def complete_prompt(prompt_id: str, controls: ControlsDep, spec: CompleteSpec | None = None) -> Any:
    """Complete a prompt now.

    :param prompt_id: the ``promptId``.
    :param controls: the emulator's controls.
    :param spec: optional response text and token count.
    """
    spec = spec or CompleteSpec()
    with _unknown_prompt(prompt_id):
        return _json(controls.complete_prompt(prompt_id, spec.response, spec.total_tokens))


@router.post("/prompts/{prompt_id}/fail")
async def fail_prompt(prompt_id: str, controls: ControlsDep, spec: FailSpec | None = None) -> Any:
    """Fail a prompt now.

    :param prompt_id: the ``promptId``.
    :param controls: the emulator's controls.
    :param spec: optional error text.
    """
    spec = spec or FailSpec()
    with _unknown_prompt(prompt_id):
        return _json(controls.fail_prompt(prompt_id, spec.error))


@contextlib.contextmanager
def _unknown_prompt(prompt_id: str) -> Iterator[None]:
    try:
        yield
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown prompt {prompt_id}") from None


@router.post("/messages/{question_id}/complete")
async def complete_message(question_id: str, controls: ControlsDep, spec: MessageCompleteSpec | None = None) -> Any:
    """Answer a pending conversation question now.

    :param question_id: the question message id.
    :param controls: the emulator's controls.
    :param spec: optional reply text.
    """
    spec = spec or MessageCompleteSpec()
    with _answered_as_http():
        return _json(controls.complete_message(question_id, spec.response))


@router.post("/messages/{question_id}/fail")
async def fail_message(question_id: str, controls: ControlsDep, spec: MessageFailSpec | None = None) -> Any:
    """Fail a pending conversation question now.

    :param question_id: the question message id.
    :param controls: the emulator's controls.
    :param spec: optional error text.
    """
    spec = spec or MessageFailSpec()
    with _answered_as_http():
        return _json(controls.fail_message(question_id, spec.error))


@router.post("/agent-files/{file_id}/complete")
async def complete_vector_store(file_id: str, controls: ControlsDep) -> Any:
    """End a file's processing vector-store upload ``done``.

    :param file_id: the agent file id.
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        return _json(controls.complete_vector_store(file_id))


@router.post("/agent-files/{file_id}/fail")
async def fail_vector_store(file_id: str, controls: ControlsDep) -> Any:
    """End a file's processing vector-store upload ``failed``.

    :param file_id: the agent file id.
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        return _json(controls.fail_vector_store(file_id))


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def seed_user(spec: UserSpec, controls: ControlsDep) -> Any:
    """Create a conversation user (400 if a contact is taken).

    :param spec: the user and its agent.
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        return _json(controls.seed_user(**spec.model_dump()))


@router.post("/conversations", status_code=status.HTTP_201_CREATED)
async def seed_conversation(spec: ConversationSpec, controls: ControlsDep) -> Any:
    """Create a conversation for a user of the agent.

    :param spec: the conversation and its agent.
    :param controls: the emulator's controls.
    """
    with _answered_as_http():
        return _json(controls.seed_conversation(**spec.model_dump()))


@router.get("/messages")
async def list_messages(
    controls: ControlsDep, conversation_id: str | None = None, agent_id: str | None = None
) -> list[Any]:
    """An agent's messages, or one conversation's.

    :param controls: the emulator's controls.
    :param conversation_id: only this conversation's.
    :param agent_id: the agent (default agent when omitted).
    """
    with _answered_as_http():
        return [_json(item) for item in controls.messages(conversation_id, agent_id)]


def _listing(read: Callable[[EmulatorControls, str | None], Sequence[Any]]) -> Callable[..., Awaitable[list[Any]]]:
    async def listing(controls: ControlsDep, agent_id: str | None = None) -> list[Any]:
        with _answered_as_http():
            return [_json(item) for item in read(controls, agent_id)]

    return listing


# ``GET /_emulator/<records>?agent_id=``: one agent's records of a kind (the default agent's when omitted).
for _path, _read, _summary in (
    ("/users", EmulatorControls.users, "An agent's conversation users"),
    ("/conversations", EmulatorControls.conversations, "An agent's conversations"),
    ("/agent-files", EmulatorControls.agent_files, "An agent's files (vector-store status settled if due)"),
    ("/webhooks", EmulatorControls.webhooks, "An agent's webhooks"),
    ("/usage", EmulatorControls.usage, "An agent's usage events"),
):
    router.add_api_route(_path, _listing(_read), methods=["GET"], summary=_summary, name=f"list{_path}")


@router.post("/reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset(controls: ControlsDep) -> None:
    """Back to the initial state (default agent only, initial knobs, no faults, empty log).

    :param controls: the emulator's controls.
    """
    controls.reset()
