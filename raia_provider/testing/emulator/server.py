"""``RaiaEmulator``: the emulator served by uvicorn on a loopback port, in a background thread.

The listening socket is bound before uvicorn starts (so port 0 gets a known free port), uvicorn runs with
its own event loop in a daemon thread, and :meth:`RaiaEmulator.stop` shuts it down and joins the thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from types import TracebackType
from typing import Any, Unpack

import uvicorn

from raia_provider.testing.emulator.answers import FAILURE_MESSAGE, MESSAGE_FAILURE_MESSAGE
from raia_provider.testing.emulator.app import create_app
from raia_provider.testing.emulator.faults import Fault, FaultKind
from raia_provider.testing.emulator.matching import ANY
from raia_provider.testing.emulator.net import LOCALHOST, http_origin, loopback_host
from raia_provider.testing.emulator.records import (
    AgentFile,
    Channel,
    Conversation,
    ConversationMode,
    ConversationUser,
    Message,
    MessageJob,
    UsageEvent,
    Webhook,
)
from raia_provider.testing.emulator.requestlog import RecordedRequest
from raia_provider.testing.emulator.state import (
    DEFAULT_AGENT_NAME,
    Agent,
    ConfigChanges,
    EmulatorConfig,
    EmulatorState,
    MessageStatusVocabulary,
    PendingStyle,
    PromptRecord,
    Upload,
)

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# Emulated delays end at once on stop; this only bounds a request stuck elsewhere.
GRACEFUL_SHUTDOWN = 2


class UvicornHooks:
    """The pipeline's view of the uvicorn server: live connections and a "stopping" signal."""

    def __init__(self) -> None:
        self._server_state: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def bind(self, server: uvicorn.Server) -> None:
        """Attach to ``server``'s connection set.

        :param server: the uvicorn server serving the app.
        """
        self._server_state = server.server_state

    def attach_loop(self) -> None:
        """Create the stopping signal in the server's event loop (call from inside that loop)."""
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def begin_stop(self) -> None:
        """Wake every pending :meth:`pause` (thread-safe), so stopping never waits on emulated delays."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)

    def transport_for(self, client: tuple[str, int] | None) -> asyncio.Transport | None:
        """Return the transport of the connection from ``client``, if still open.

        :param client: the peer ``(host, port)`` from the ASGI scope.
        """
        if self._server_state is None or client is None:
            return None
        for protocol in list(self._server_state.connections):
            if getattr(protocol, "client", None) == client:
                transport: asyncio.Transport = protocol.transport
                return transport
        return None

    async def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless the server starts stopping.

        :param seconds: how long to sleep.
        :return: ``True`` if the full time passed.
        """
        if self._stopping is None:
            await asyncio.sleep(seconds)
            return True
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False


class RaiaEmulator:
    """A raia emulator on ``http://127.0.0.1:PORT/external``; use as a context manager or start()/stop().

    Creating one does no I/O; :meth:`start` binds the port and waits until the server accepts requests.

    :param key: the default agent's ``Agent-Secret-Key``; a random UUID when omitted.
    :param agent_name: the default agent's name.
    :param host: a loopback address to bind (anything else is refused).
    :param port: the port to bind; 0 picks a free one.
    :param prompt_delay: seconds until an async prompt settles; ``None`` holds new prompts pending.
    :param latency: seconds added to every ``/external`` response.
    :param pending_style: ``null``, ``status`` or ``alternate`` (see ``EmulatorConfig``).
    :param rate_limit: requests per second per agent, ``None`` for no limit.
    :param burst: token-bucket size (default one second's worth).
    :param message_delay: seconds until an async message's answer settles; ``None`` holds them.
    :param message_status_vocabulary: ``spec`` or ``release_notes`` (see ``EmulatorConfig``).
    :param vector_store_delay: seconds an agent file stays ``processing``; ``None`` holds them.
    :raises ValueError: on a non-loopback host or an invalid knob.
    """

    def __init__(
        self,
        key: str | None = None,
        *,
        agent_name: str = DEFAULT_AGENT_NAME,
        host: str = LOCALHOST,
        port: int = 0,
        prompt_delay: float | None = 0.2,
        latency: float = 0.0,
        pending_style: PendingStyle = "null",
        rate_limit: float | None = None,
        burst: int | None = None,
        message_delay: float | None = 0.2,
        message_status_vocabulary: MessageStatusVocabulary = "spec",
        vector_store_delay: float | None = 0.2,
    ) -> None:
        self._host = loopback_host(host)
        self._requested_port = port
        config = EmulatorConfig(
            prompt_delay=prompt_delay,
            latency=latency,
            pending_style=pending_style,
            rate_limit=rate_limit,
            burst=burst,
            message_delay=message_delay,
            message_status_vocabulary=message_status_vocabulary,
            vector_store_delay=vector_store_delay,
        )
        self.state = EmulatorState(key=key or str(uuid.uuid4()), agent_name=agent_name, config=config)
        self._hooks = UvicornHooks()
        self.app = create_app(self.state, self._hooks)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    # -- life cycle --------------------------------------------------------------------------------------

    def start(self) -> RaiaEmulator:
        """Bind the port, start uvicorn in a background thread and wait until it serves.

        :raises RuntimeError: if already started or if the server fails to start.
        """
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # IPPROTO_TCP (not 0) so accepted sockets get TCP_NODELAY from asyncio; without it, Nagle plus the
        # client's delayed ACK add ~40 ms to every request on a kept-alive connection.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                log_config=None,  # in-process: leave the host application's logging alone
                access_log=False,
                lifespan="off",
                proxy_headers=False,  # keep the real peer address: reset faults look connections up by it
                server_header=False,
                ws="none",  # no websocket routes; also spares importing the websockets package
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            )
        )
        self._hooks.bind(server)
        thread = threading.Thread(
            target=self._serve, args=(server, sock), name=f"raia-emulator-{self._port}", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        self._port = int(sock.getsockname()[1])
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the raia emulator failed to start")
            time.sleep(0.002)
        return self

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def main() -> None:
            self._hooks.attach_loop()
            await server.serve(sockets=[sock])

        asyncio.run(main())

    def stop(self) -> None:
        """Shut the server down, join its thread and close the socket (idempotent)."""
        server, thread, sock = self._server, self._thread, self._socket
        if server is None or thread is None or sock is None:
            return
        self._hooks.begin_stop()
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        sock.close()
        self._server = self._thread = self._socket = None
        self._port = None

    def __enter__(self) -> RaiaEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is started."""
        return self._server is not None

    # -- addresses ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: if not started.
        """
        if self._port is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the control API lives under ``/_emulator``)."""
        return http_origin(self._host, self.port)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/external`` — what a raia client uses as its base URL."""
        return f"{self.url}/external"

    # -- agents ------------------------------------------------------------------------------------------

    @property
    def default_agent(self) -> Agent:
        """The agent every emulator starts with."""
        return self.state.default_agent

    @property
    def default_key(self) -> str:
        """The default agent's ``Agent-Secret-Key``."""
        return self.state.default_agent.key

    def add_agent(self, key: str | None = None, name: str = "Agent") -> Agent:
        """Create another agent with its own key.

        :param key: its ``Agent-Secret-Key``; a random UUID when omitted.
        :param name: its name.
        :raises ValueError: if the key is empty or already used.
        """
        return self.state.add_agent(key=key, name=name)

    # -- knobs, faults, log --------------------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        """The current knobs."""
        return self.state.config

    def configure(self, **changes: Unpack[ConfigChanges]) -> EmulatorConfig:
        """Change knobs: ``latency``, ``prompt_delay``, ``pending_style``, ``rate_limit``, ``burst``,
        ``message_delay``, ``message_status_vocabulary``, ``vector_store_delay``.

        :param changes: the knobs to change; others keep their value.
        """
        return self.state.configure(**changes)

    def inject_fault(
        self,
        *,
        kind: FaultKind,
        method: str = ANY,
        path: str = ANY,
        count: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        after: int = 0,
    ) -> Fault:
        """Make the next ``count`` requests matching ``method`` and ``path`` fail (see ``faults`` module).

        :param kind: ``status``, ``reset``, ``reset_mid_response``, ``slow``, ``malformed_json`` or ``html``.
        :param method: HTTP method, ``"*"`` for any.
        :param path: path pattern: exact, ``{param}`` template, trailing-``*`` prefix, or ``"*"``.
        :param count: how many matching requests to hit.
        :param status: status code (``status`` faults; ``html`` defaults to 502).
        :param retry_after: ``Retry-After`` seconds for ``status`` faults; ``None`` sends no header.
        :param delay: seconds to wait for ``slow`` faults.
        :param after: let this many matching requests through first.
        """
        fault = Fault(
            kind=kind,
            method=method,
            path=path,
            count=count,
            status=status,
            retry_after=retry_after,
            delay=delay,
            after=after,
        )
        return self.state.faults.add(fault)

    def faults(self) -> list[Fault]:
        """Pending fault rules with their remaining counts."""
        return self.state.faults.list()

    def clear_faults(self) -> None:
        """Drop every fault rule."""
        self.state.faults.clear()

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded ``/external`` requests, in order, optionally filtered.

        :param method: HTTP method filter.
        :param path: path pattern filter (same syntax as faults).
        """
        return self.state.log.select(method, path)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.state.log.clear()

    # -- prompts -----------------------------------------------------------------------------------------

    def complete_prompt(
        self, prompt_id: str, response: str | None = None, total_tokens: int | None = None
    ) -> PromptRecord:
        """Complete an async prompt now.

        :param prompt_id: the ``promptId``.
        :param response: answer text (default: the deterministic answer).
        :param total_tokens: token count (default: computed).
        :raises KeyError: if the prompt does not exist.
        """
        return self.state.complete_prompt(prompt_id, response, total_tokens)

    def fail_prompt(self, prompt_id: str, error: str = FAILURE_MESSAGE) -> PromptRecord:
        """Fail an async prompt now.

        :param prompt_id: the ``promptId``.
        :param error: the error text.
        :raises KeyError: if the prompt does not exist.
        """
        return self.state.fail_prompt(prompt_id, error)

    def prompts(self) -> list[PromptRecord]:
        """Every async prompt created since the last reset."""
        return self.state.prompts()

    def uploads(self) -> list[Upload]:
        """Every signed upload issued since the last reset."""
        return self.state.uploads()

    # -- conversation side -------------------------------------------------------------------------------

    def complete_message(self, question_id: str, response: str | None = None) -> MessageJob:
        """Answer a pending conversation question now (one sent with ``…/messages/async``).

        :param question_id: the question message id (``questionMessageId``).
        :param response: the reply text (default: the deterministic answer).
        :raises KeyError: if the question does not exist.
        :raises ValueError: if its answer is already settled.
        """
        return self.state.workspace.complete_message(question_id, response)

    def fail_message(self, question_id: str, error: str = MESSAGE_FAILURE_MESSAGE) -> MessageJob:
        """Fail a pending conversation question now.

        :param question_id: the question message id.
        :param error: the error text.
        :raises KeyError: if the question does not exist.
        :raises ValueError: if its answer is already settled.
        """
        return self.state.workspace.fail_message(question_id, error)

    def complete_vector_store(self, file_id: str) -> AgentFile:
        """End an agent file's ``processing`` vector-store upload ``done`` now.

        :param file_id: the agent file id.
        :raises KeyError: if the file does not exist.
        :raises ValueError: if it is not processing.
        """
        return self.state.workspace.settle_vector_store(file_id)

    def fail_vector_store(self, file_id: str) -> AgentFile:
        """End an agent file's ``processing`` vector-store upload ``failed`` now.

        :param file_id: the agent file id.
        :raises KeyError: if the file does not exist.
        :raises ValueError: if it is not processing.
        """
        return self.state.workspace.settle_vector_store(file_id, failed=True)

    def seed_user(
        self,
        first_name: str = "Test",
        last_name: str = "User",
        *,
        email: str | None = None,
        phone_number: str | None = None,
        fk_id: str | None = None,
        fk_user_id: str | None = None,
        agent_id: str | None = None,
    ) -> ConversationUser:
        """Create a conversation user directly (no validation of the contacts' format).

        :param first_name: first name.
        :param last_name: last name.
        :param email: email.
        :param phone_number: phone number.
        :param fk_id: fkId.
        :param fk_user_id: fkUserId.
        :param agent_id: the owning agent (default agent when omitted).
        :raises KeyError: unknown agent.
        :raises ValueError: if a contact is already taken in that agent ("User already exists.").
        """
        return self.state.workspace.create_user(
            self.state.agent_id(agent_id),
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone_number=phone_number,
            fk_id=fk_id,
            fk_user_id=fk_user_id,
        )

    def seed_conversation(
        self,
        user_id: str,
        *,
        title: str | None = None,
        channel: Channel = "api",
        mode: ConversationMode = "ai",
        agent_id: str | None = None,
    ) -> Conversation:
        """Create a conversation directly for one of the agent's users.

        :param user_id: the conversation user.
        :param title: title.
        :param channel: ``api``, ``email``, ``sms`` or ``voice`` (what ``send-manual-message`` checks).
        :param mode: ``ai`` or ``manual``.
        :param agent_id: the owning agent (default agent when omitted).
        :raises KeyError: unknown agent or user.
        """
        owner = self.state.agent_id(agent_id)
        conversation = self.state.workspace.create_conversation(owner, user_id, title=title, channel=channel)
        if mode != conversation.mode:
            conversation = self.state.workspace.update_conversation(owner, conversation.id, mode=mode)
        return conversation

    def users(self, agent_id: str | None = None) -> list[ConversationUser]:
        """An agent's conversation users, oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.users(self.state.agent_id(agent_id))

    def conversations(self, agent_id: str | None = None) -> list[Conversation]:
        """An agent's conversations, oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.conversations(self.state.agent_id(agent_id))

    def messages(self, conversation_id: str | None = None, agent_id: str | None = None) -> list[Message]:
        """An agent's messages (or one conversation's), oldest first.

        :param conversation_id: only this conversation's.
        :param agent_id: the agent (default agent when omitted).
        :raises KeyError: unknown conversation.
        """
        owner = self.state.agent_id(agent_id)
        if conversation_id is None:
            return self.state.workspace.all_messages(owner)
        return self.state.workspace.messages(owner, conversation_id)

    def agent_files(self, agent_id: str | None = None) -> list[AgentFile]:
        """An agent's knowledge-base files (vector-store status settled if due).

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.files(self.state.agent_id(agent_id))

    def webhooks(self, agent_id: str | None = None) -> list[Webhook]:
        """An agent's webhooks, oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.webhooks(self.state.agent_id(agent_id))

    def usage(self, agent_id: str | None = None) -> list[UsageEvent]:
        """An agent's usage events (tokens, SMS, emails, seconds), oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.usage_events(self.state.agent_id(agent_id))

    def reset(self) -> None:
        """Back to the initial state: default agent only, initial knobs, no prompts, conversation-side
        records, faults or log."""
        self.state.reset()
