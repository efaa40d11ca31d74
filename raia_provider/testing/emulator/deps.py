"""FastAPI dependencies of every router (the state, the calling agent, the API's and the storage's origins),
and the one place a store's refusal becomes raia's answer (:func:`raia_errors`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from raia_provider.testing.emulator.errors import (
    RaiaError,
    bad_request_message,
    entity_not_found_body,
    forbidden_body,
)
from raia_provider.testing.emulator.net import http_origin
from raia_provider.testing.emulator.pipeline import scope_agent
from raia_provider.testing.emulator.state import Agent, EmulatorState
from raia_provider.testing.emulator.storage import NotFound, Refused


def emulator_state(request: Request) -> EmulatorState:
    """Return the emulator state the app was built with.

    :param request: the current request.
    """
    state: EmulatorState = request.app.state.emulator
    return state


def current_agent(request: Request) -> Agent:
    """Return the agent authenticated by the pipeline.

    :param request: the current request.
    :raises RaiaError: 403 if the request did not go through the pipeline's authentication.
    """
    agent = scope_agent(request.scope)
    if agent is None:
        raise RaiaError(403, forbidden_body())
    return agent


def server_origin(request: Request) -> str:
    """Return ``http://host:port`` of the socket the request arrived on (not the ``Host`` header).

    :param request: the current request.
    """
    server = request.scope.get("server")
    if not server:
        return str(request.base_url).rstrip("/")
    host, port = server
    return http_origin(str(host), int(port))


def storage_origin(request: Request) -> str:
    """Return ``http://host:port`` of the storage service behind signed URLs (its own socket; the request's
    origin when the app has none, see :mod:`.origins`).

    :param request: the current request.
    """
    origin: str | None = request.app.state.storage_origin.origin()
    return origin if origin is not None else server_origin(request)


@contextlib.contextmanager
def raia_errors() -> Iterator[None]:
    """Turn the workspace's refusals into raia's answers: ``NotFound`` → 404, ``Refused`` → 400."""
    try:
        yield
    except NotFound:
        raise RaiaError(404, entity_not_found_body()) from None
    except Refused as error:
        raise RaiaError(400, bad_request_message(str(error))) from None


def not_found() -> RaiaError:
    """raia's 404 ``ENTITY_NOT_FOUND``, to raise."""
    return RaiaError(404, entity_not_found_body())


StateDep = Annotated[EmulatorState, Depends(emulator_state)]
AgentDep = Annotated[Agent, Depends(current_agent)]
OriginDep = Annotated[str, Depends(server_origin)]
StorageOriginDep = Annotated[str, Depends(storage_origin)]
