"""The control API under ``/_emulator`` (no auth; the server listens on loopback only).

It drives an emulator running in another process (the CLI, or a server started by Airflow components):
:class:`~raia_provider.testing.emulator.client.EmulatorClient` wraps it. JSON field names are the Python
names (snake_case). Errors use FastAPI's ``{"detail": ...}`` bodies — this API is ours, not raia's.

``PUT /_emulator/uploads/{token}`` is the emulated storage service behind the signed URLs that
``POST /external/prompts/upload-url`` hands out; it accepts any content type (raia does not document the
signed URL's method or headers).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from raia_provider.testing.emulator.answers import FAILURE_MESSAGE
from raia_provider.testing.emulator.faults import Fault, FaultKind
from raia_provider.testing.emulator.matching import ANY
from raia_provider.testing.emulator.net import CONTROL_PREFIX
from raia_provider.testing.emulator.routes.deps import OriginDep, StateDep
from raia_provider.testing.emulator.state import PendingStyle, PromptRecord

router = APIRouter(prefix=CONTROL_PREFIX, tags=["Emulator control"])


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultSpec(_Spec):
    """Body of ``POST /_emulator/faults`` (see :class:`~raia_provider.testing.emulator.faults.Fault`)."""

    kind: FaultKind
    method: str = ANY
    path: str = ANY
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0


class ConfigSpec(_Spec):
    """Body of ``POST /_emulator/config``: only the knobs to change."""

    prompt_delay: float | None = None
    latency: float | None = None
    pending_style: PendingStyle | None = None
    rate_limit: float | None = None
    burst: int | None = None


class AgentSpec(_Spec):
    """Body of ``POST /_emulator/agents``."""

    key: str | None = None
    name: str = "Agent"


class CompleteSpec(_Spec):
    """Body of ``POST /_emulator/prompts/{id}/complete`` (both optional)."""

    response: str | None = None
    total_tokens: int | None = None


class FailSpec(_Spec):
    """Body of ``POST /_emulator/prompts/{id}/fail``."""

    error: str = FAILURE_MESSAGE


def _data(obj: Any) -> Any:
    return dataclasses.asdict(obj)


def _bad(error: Exception) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(error))


@router.get("/health")
async def health(state: StateDep, origin: OriginDep) -> dict[str, Any]:
    """Liveness, the ``/external`` base URL and the default agent (without its key).

    :param state: the emulator state.
    :param origin: the emulator's own origin.
    """
    agent = state.default_agent
    return {
        "status": "ok",
        "base_url": f"{origin}/external",
        "default_agent": {"id": agent.id, "name": agent.name},
    }


@router.get("/requests")
async def list_requests(state: StateDep, method: str | None = None, path: str | None = None) -> list[Any]:
    """The request log, optionally filtered (``path`` is a pattern).

    :param state: the emulator state.
    :param method: HTTP method filter.
    :param path: path pattern filter.
    """
    return [_data(entry) for entry in state.log.select(method, path)]


@router.delete("/requests", status_code=status.HTTP_204_NO_CONTENT)
async def clear_requests(state: StateDep) -> None:
    """Empty the request log.

    :param state: the emulator state.
    """
    state.log.clear()


@router.post("/faults", status_code=status.HTTP_201_CREATED)
async def add_fault(spec: FaultSpec, state: StateDep) -> Any:
    """Add a fault rule.

    :param spec: the rule.
    :param state: the emulator state.
    """
    try:
        fault = Fault(**spec.model_dump())
    except ValueError as error:
        raise _bad(error) from error
    return _data(state.faults.add(fault))


@router.get("/faults")
async def list_faults(state: StateDep) -> list[Any]:
    """Pending fault rules, in order.

    :param state: the emulator state.
    """
    return [_data(fault) for fault in state.faults.list()]


@router.delete("/faults", status_code=status.HTTP_204_NO_CONTENT)
async def clear_faults(state: StateDep) -> None:
    """Drop every fault rule.

    :param state: the emulator state.
    """
    state.faults.clear()


@router.post("/config")
async def configure(spec: ConfigSpec, state: StateDep) -> Any:
    """Change knobs; fields left out keep their value (``null`` is a value, e.g. for ``prompt_delay``).

    :param spec: the knobs to change.
    :param state: the emulator state.
    """
    changes = spec.model_dump(exclude_unset=True)
    try:
        return _data(state.configure(**changes))
    except (TypeError, ValueError) as error:
        raise _bad(error) from error


@router.get("/config")
async def get_config(state: StateDep) -> Any:
    """The current knobs.

    :param state: the emulator state.
    """
    return _data(state.config)


@router.post("/agents", status_code=status.HTTP_201_CREATED)
async def add_agent(spec: AgentSpec, state: StateDep) -> Any:
    """Create an agent; the answer includes its key (needed when it was generated).

    :param spec: key and name.
    :param state: the emulator state.
    """
    try:
        return _data(state.add_agent(key=spec.key, name=spec.name))
    except ValueError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error


def _prompt_or_404(prompt_id: str, action: Any) -> Any:
    try:
        record: PromptRecord = action()
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown prompt {prompt_id}") from None
    return _data(record)


@router.post("/prompts/{prompt_id}/complete")
async def complete_prompt(prompt_id: str, state: StateDep, spec: CompleteSpec | None = None) -> Any:
    """Complete a prompt now.

    :param prompt_id: the ``promptId``.
    :param state: the emulator state.
    :param spec: optional response text and token count.
    """
    spec = spec or CompleteSpec()
    return _prompt_or_404(prompt_id, lambda: state.complete_prompt(prompt_id, spec.response, spec.total_tokens))


@router.post("/prompts/{prompt_id}/fail")
async def fail_prompt(prompt_id: str, state: StateDep, spec: FailSpec | None = None) -> Any:
    """Fail a prompt now.

    :param prompt_id: the ``promptId``.
    :param state: the emulator state.
    :param spec: optional error text.
    """
    spec = spec or FailSpec()
    return _prompt_or_404(prompt_id, lambda: state.fail_prompt(prompt_id, spec.error))


@router.post("/reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset(state: StateDep) -> None:
    """Back to the initial state (default agent only, initial knobs, no faults, empty log).

    :param state: the emulator state.
    """
    state.reset()


@router.put("/uploads/{token}")
async def put_upload(token: str, request: Request, state: StateDep) -> Response:
    """Receive the bytes of a prompt file (the target of a signed upload URL).

    :param token: the signed URL's token.
    :param request: the request carrying the bytes.
    :param state: the emulator state.
    """
    try:
        state.store_upload(token, await request.body())
    except KeyError:
        return JSONResponse({"detail": "unknown upload URL"}, status_code=status.HTTP_404_NOT_FOUND)
    return Response(status_code=status.HTTP_200_OK)
