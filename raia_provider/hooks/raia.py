"""``RaiaHook``: the one place that talks HTTP to raia, blocking (``requests``) and async (``aiohttp``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook
from pydantic import TypeAdapter

from raia_provider._core import clock, form
from raia_provider._core.operation import PreparedRequest, custom_request
from raia_provider._core.responses import decode_response
from raia_provider._core.retry import RetryPolicy
from raia_provider._core.settings import RaiaConnectionSettings, connection_not_found
from raia_provider._core.wire import AUTH_HEADER, DEFAULT_MAX_RESPONSE_BYTES, WireLimits
from raia_provider.exceptions import RaiaError, RaiaInputError
from raia_provider.models.conversations import MessageFile
from raia_provider.models.prompts import PromptFile
from raia_provider.operations.agents import AgentEndpoints
from raia_provider.operations.conversations import ConversationEndpoints
from raia_provider.operations.files import FileEndpoints
from raia_provider.operations.prompts import PromptEndpoints
from raia_provider.operations.users import UserEndpoints
from raia_provider.operations.webhooks import WebhookEndpoints

if TYPE_CHECKING:
    from raia_provider._core.async_transport import AsyncTransport
    from raia_provider._core.file_source import FileSource
    from raia_provider._core.multipart import FilePart
    from raia_provider._core.operation import RaiaRequest
    from raia_provider._core.signed_upload import SignedUploadTransport
    from raia_provider._core.sync_transport import SyncTransport

R = TypeVar("R")
_REDACTED = "***"
_ANY: TypeAdapter[Any] = TypeAdapter(Any)


class RaiaHook(
    PromptEndpoints, AgentEndpoints, FileEndpoints, WebhookEndpoints, ConversationEndpoints, UserEndpoints, BaseHook
):
    """Talk to raia's external API with the agent key of a ``raia`` connection.

    Every operation is available twice: ``hook.process_prompt(prompt=...)`` blocks, and
    ``await hook.aprocess_prompt(prompt=...)`` is for triggers and other async code. The methods come
    from one mixin per resource in :mod:`raia_provider.operations`: a line each, naming the operation it
    sends. Arguments are keyword-only and validated before any request. Transient failures (connection
    errors, timeouts, 5xx, 429) are retried with the hook's :class:`~raia_provider._core.retry.RetryPolicy`;
    others raise at once. Nothing happens on construction: the connection is read at the first call.

    :param raia_conn_id: the ``raia`` connection to use.
    :param retry_policy: how transient failures are retried; the default makes up to 5 attempts.
    :param connect_timeout: seconds to establish a connection.
    :param read_timeout: seconds to wait for raia's whole answer (headers and body, however slowly they
        arrive); synchronous prompts can be slow.
    :param max_response_bytes: the largest answer body read (default 32 MiB, far above any raia answer);
        a larger one raises :class:`~raia_provider.exceptions.RaiaResponseTooLargeError` and is not retried.
    :param sleep: the blocking sleep used between retries (default: :func:`raia_provider._core.clock.sleep`).
    :param async_sleep: the coroutine sleep used between retries (default:
        :func:`raia_provider._core.clock.asleep`).
    """

    conn_name_attr = "raia_conn_id"
    default_conn_name = form.DEFAULT_CONN_ID
    conn_type = form.CONN_TYPE
    hook_name = form.HOOK_NAME

    def __init__(
        self,
        raia_conn_id: str = default_conn_name,
        *,
        retry_policy: RetryPolicy | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.raia_conn_id = raia_conn_id
        self.retry_policy = retry_policy or RetryPolicy()
        self.limits = WireLimits(connect=connect_timeout, read=read_timeout, max_response_bytes=max_response_bytes)
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._settings: RaiaConnectionSettings | None = None
        self._async_transport: AsyncTransport | None = None

    # -- connection ---------------------------------------------------------------------------------

    @property
    def settings(self) -> RaiaConnectionSettings:
        """The validated connection, read at first use (blocking lookup; async code uses ``aget_settings``)."""
        if self._settings is None:
            from airflow.providers.common.compat.sdk import AirflowNotFoundException

            try:
                conn = self.get_connection(self.raia_conn_id)
            except AirflowNotFoundException:
                raise connection_not_found(self.raia_conn_id) from None
            self._settings = RaiaConnectionSettings.from_connection(conn)
        return self._settings

    async def aget_settings(self) -> RaiaConnectionSettings:
        """Read and validate the connection without blocking the event loop."""
        if self._settings is None:
            from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
            from airflow.providers.common.compat.sdk import AirflowNotFoundException

            try:
                conn = await get_async_connection(self.raia_conn_id)
            except AirflowNotFoundException:
                raise connection_not_found(self.raia_conn_id) from None
            extra = await get_async_extra_dejson(conn)
            self._settings = RaiaConnectionSettings.from_connection(conn, extra)
        return self._settings

    def get_conn(self) -> SyncTransport:
        """Return the blocking transport (one keep-alive ``requests.Session`` per hook)."""
        return self._sync_transport

    @cached_property
    def _sync_transport(self) -> SyncTransport:
        from raia_provider._core.sync_transport import SyncTransport

        return SyncTransport(self.settings, self.limits)

    async def _aget_transport(self) -> AsyncTransport:
        """Return the async transport: this hook's share of the running event loop's aiohttp session.

        A transport left from another event loop (a hook reused across ``asyncio.run`` calls) is let go
        of, never used: its connections belong to that loop.
        """
        transport = self._async_transport
        if transport is not None and transport.is_usable:
            return transport
        settings = await self.aget_settings()
        transport = self._async_transport  # another coroutine of this hook may have opened one meanwhile
        if transport is not None and transport.is_usable:
            return transport
        from raia_provider._core.async_transport import AsyncTransport

        if transport is not None:
            transport.abandon()
        self._async_transport = transport = AsyncTransport(settings, self.limits)
        return transport

    # -- sending --------------------------------------------------------------------------------------

    def send(self, request: RaiaRequest[R]) -> R:
        """Send one declared operation, retrying transient failures, and return its typed answer.

        :param request: an operation declaration, e.g. ``ProcessPrompt.build(prompt="...")``.
        :raises RaiaError: a typed subclass saying what went wrong; never containing the key.
        """
        return self._send(request.prepare(), request.response_adapter)  # type: ignore[no-any-return]

    async def asend(self, request: RaiaRequest[R]) -> R:
        """Send one declared operation without blocking, retrying transient failures.

        :param request: an operation declaration, e.g. ``GetPromptResponse.build(prompt_id="...")``.
        :raises RaiaError: a typed subclass saying what went wrong; never containing the key.
        """
        return await self._asend(request.prepare(), request.response_adapter)  # type: ignore[no-any-return]

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth_header: str = AUTH_HEADER,
    ) -> Any:
        """Call any raia operation the provider does not declare, with the same retries and errors.

        For example an organization-key operation, with a connection whose password holds that key::

            hook.request("GET", "/agent-roles/by-api-key", auth_header="Organization-Secret-Key")

        :param method: ``GET``, ``POST``, ``PUT`` or ``DELETE``.
        :param path: the path below the connection's base URL, e.g. ``/agent-roles/by-api-key``.
        :param json: the JSON body, if any.
        :param params: query-string parameters, if any.
        :param auth_header: the header that carries the connection's key.
        :return: the decoded JSON answer (``None`` for an empty body), with the connection's key replaced by
            ``***`` wherever raia echoes it (the agent profile carries it, like the typed models hide it).
        """
        return self._redact_json(
            self._send(custom_request(method, path, json=json, params=params, auth_header=auth_header), _ANY)
        )

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth_header: str = AUTH_HEADER,
    ) -> Any:
        """The async twin of :meth:`request`.

        :param method: ``GET``, ``POST``, ``PUT`` or ``DELETE``.
        :param path: the path below the connection's base URL.
        :param json: the JSON body, if any.
        :param params: query-string parameters, if any.
        :param auth_header: the header that carries the connection's key.
        """
        prepared = custom_request(method, path, json=json, params=params, auth_header=auth_header)
        return self._redact_json(await self._asend(prepared, _ANY))

    def _send(self, prepared: PreparedRequest, adapter: TypeAdapter[Any]) -> Any:
        transport = self._sync_transport
        return self._retried(
            lambda: decode_response(prepared, transport.send(prepared), adapter, self.redact), prepared.operation.label
        )

    async def _asend(self, prepared: PreparedRequest, adapter: TypeAdapter[Any]) -> Any:
        transport = await self._aget_transport()

        async def once() -> Any:
            return decode_response(prepared, await transport.send(prepared), adapter, self.redact)

        return await self._aretried(once, prepared.operation.label)

    def _retried(self, call: Callable[[], R], what: str) -> R:
        """Run ``call``, retrying transient failures with the hook's one retry policy."""
        for attempt in self.retry_policy.retrying(self._sleep or clock.sleep, what):
            with attempt:
                return call()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _aretried(self, call: Callable[[], Awaitable[R]], what: str) -> R:
        """The async twin of :meth:`_retried`."""
        if self.retry_policy.max_attempts == 1:
            # Nothing to retry (a trigger's poll: its loop retries): spare tenacity's per-call set-up, a
            # few percent of a poll's CPU when a triggerer runs a thousand of them.
            return await call()
        async for attempt in self.retry_policy.async_retrying(self._async_sleep or clock.asleep, what):
            with attempt:
                return await call()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    # -- files for prompts and messages: raia's signed URL, then the storage host ------------------------

    def upload_prompt_file(self, source: FileSource, *, content_type: str | None = None) -> PromptFile:
        """Upload a file for a prompt: ask raia for a signed URL, stream the bytes there (without the key).

        :param source: a local path or an ``ObjectStoragePath``; checked before any request.
        :param content_type: its MIME type (default: guessed from the name).
        :return: the entry to put in a prompt's ``files``.
        :raises RaiaInputError: the file cannot be read (nothing was sent).
        """
        part = self._file_part(source, content_type, "source")
        signed = self.create_prompt_upload_url(file_name=part.file_name, content_type=part.content_type)
        self._put_signed(signed.signed_url, part)
        return PromptFile(file_name=part.file_name, storage_path=signed.storage_path)

    async def aupload_prompt_file(self, source: FileSource, *, content_type: str | None = None) -> PromptFile:
        """The async twin of :meth:`upload_prompt_file` (file reads in a worker thread).

        :param source: a local path or an ``ObjectStoragePath``.
        :param content_type: its MIME type (default: guessed from the name).
        """
        part = self._file_part(source, content_type, "source")
        signed = await self.acreate_prompt_upload_url(file_name=part.file_name, content_type=part.content_type)
        await self._aput_signed(signed.signed_url, part)
        return PromptFile(file_name=part.file_name, storage_path=signed.storage_path)

    def upload_message_file(
        self, *, conversation_id: str, source: FileSource, content_type: str | None = None
    ) -> MessageFile:
        """Upload a file for a message in a conversation, the same way as :meth:`upload_prompt_file`.

        :param conversation_id: the conversation the message goes to.
        :param source: a local path or an ``ObjectStoragePath``; checked before any request.
        :param content_type: its MIME type (default: guessed from the name).
        :return: the entry to put in a message's ``files``.
        """
        part = self._file_part(source, content_type, "source")
        signed = self.create_message_file_upload_url(
            conversation_id=conversation_id, file_name=part.file_name, content_type=part.content_type
        )
        self._put_signed(signed.signed_url, part)
        return MessageFile(file_name=part.file_name, storage_path=signed.storage_path)

    @staticmethod
    def _file_part(source: Any, content_type: str | None, argument: str) -> FilePart:
        from raia_provider._core.file_source import file_part

        try:
            return file_part(source, content_type=content_type)
        except ValueError as exc:
            raise RaiaInputError(f"argument {argument!r}: {exc}") from None

    @cached_property
    def _signed_uploads(self) -> SignedUploadTransport:
        from raia_provider._core.signed_upload import SignedUploadTransport

        return SignedUploadTransport(self.limits)

    def _put_signed(self, signed_url: str, part: FilePart) -> None:
        self._retried(lambda: self._signed_uploads.put(signed_url, part), f"upload of {part.file_name!r} to storage")

    async def _aput_signed(self, signed_url: str, part: FilePart) -> None:
        await self._aretried(
            lambda: self._signed_uploads.aput(signed_url, part), f"upload of {part.file_name!r} to storage"
        )

    def redact(self, text: str) -> str:
        """Return ``text`` with the connection's secret key (if it has been read) replaced by ``***``.

        :param text: any text that may echo the key, e.g. an error message.
        """
        key = self._settings.api_key if self._settings else None
        return text.replace(key, _REDACTED) if key else text

    def _redact_json(self, value: Any) -> Any:
        """Return a decoded JSON answer with the connection's key replaced by ``***`` in every string."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self._redact_json(item) for item in value]
        if isinstance(value, dict):
            return {self._redact_json(key): self._redact_json(item) for key, item in value.items()}
        return value

    def close(self) -> None:
        """Close the blocking transport's pooled connections, if it was opened."""
        if "_sync_transport" in self.__dict__:
            self.__dict__.pop("_sync_transport").close()
        if "_signed_uploads" in self.__dict__:
            self.__dict__.pop("_signed_uploads").close()

    async def aclose(self) -> None:
        """Let go of the async transport, if it was opened.

        The event loop's aiohttp session is shared by every hook on that loop; its pooled connections are
        closed when the last hook using it lets go, so one trigger's cleanup never disturbs another's wait.
        """
        if self._async_transport is not None:
            transport, self._async_transport = self._async_transport, None
            await transport.aclose()

    # -- Airflow UI ----------------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the key and region with ``GET /agents/by-api-key`` and name the agent, or say why not."""
        try:
            agent = self.get_agent()
        except RaiaError as exc:
            return False, str(exc)
        return True, (
            f"Connected to raia agent {agent.name!r} (id {agent.id}, organization "
            f"{agent.organization_name!r}) at {self.settings.base_url}."
        )

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Standard connection fields to hide and relabel (read by Airflow 3.1; 3.2+ uses provider info)."""
        return form.legacy_ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The ``region`` field of the connection form (read by Airflow 3.1; 3.2+ uses provider info)."""
        return form.legacy_connection_form_widgets()
