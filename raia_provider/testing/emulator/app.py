"""FastAPI application factory of the raia emulator."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from raia_provider.testing.emulator.control.routes import router as control_router
from raia_provider.testing.emulator.errors import (
    EXTERNAL_ERROR_RESPONSES,
    RaiaError,
    bad_request_body,
    body_for_status,
    internal_error_body,
)
from raia_provider.testing.emulator.net import CONTROL_PREFIX
from raia_provider.testing.emulator.origins import OriginGate, StorageOrigin
from raia_provider.testing.emulator.pipeline import ExternalApiPipeline, ServerHooks, is_external
from raia_provider.testing.emulator.routers import EXTERNAL_ROUTERS, STORAGE_ROUTERS
from raia_provider.testing.emulator.state import EmulatorState
from raia_provider.testing.emulator.validation import BODY_PROPERTY, class_validator_details, detail

logger = logging.getLogger(__name__)


async def _raia_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RaiaError)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers or None)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not is_external(request.url.path):
        return await request_validation_exception_handler(request, exc)
    # raia answers 400 with class-validator details, never FastAPI's 422.
    return JSONResponse(bad_request_body(class_validator_details(exc.errors())), status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not is_external(request.url.path):
        return await http_exception_handler(request, exc)
    if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. not UTF-8)
        body = bad_request_body([detail(BODY_PROPERTY, "isJson", "body must be valid JSON")])
    else:
        body = body_for_status(exc.status_code)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    logger.error("raia emulator: unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(internal_error_body(), status_code=500)


def create_app(state: EmulatorState, hooks: ServerHooks | None = None, storage: StorageOrigin | None = None) -> FastAPI:
    """Build the emulator's ASGI app: raia's ``/external`` API plus the ``/_emulator`` control API, and the
    storage service behind signed URLs (on its own origin once ``storage`` has an address, see
    :mod:`.origins`).

    :param state: the state the app serves and mutates.
    :param hooks: the emulator's server hooks (connection access for ``reset`` faults, prompt shutdown).
    :param storage: where the storage service listens; without it, on the same origin as the API.
    """
    storage = storage or StorageOrigin()
    app = FastAPI(
        title="raia emulator",
        description="Emulates raia's external API for tests; control API under /_emulator.",
        openapi_url=f"{CONTROL_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.emulator = state
    app.state.storage_origin = storage
    for router in EXTERNAL_ROUTERS:
        app.include_router(router, responses=EXTERNAL_ERROR_RESPONSES)
    app.include_router(control_router)
    for router in STORAGE_ROUTERS:
        app.include_router(router)
    app.add_exception_handler(RaiaError, _raia_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(ExternalApiPipeline, state=state, router=app.router, hooks=hooks)
    app.add_middleware(OriginGate, storage=storage)  # outermost: a wrong-origin request is never logged
    return app
