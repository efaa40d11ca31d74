"""Secret handling (issue 8): the agent key never leaks, on any operator path, succeeding or failing.

Every path runs over real loopback sockets with a recognisable canary key in the connection's password,
then the key is searched for, in its obvious derived forms, in everything the path left behind:

* captured logs at DEBUG (stdlib loggers incl. ``urllib3``/``aiohttp`` via caplog; the task
  logger, structlog, via capsys);
* the exception: ``str``, ``repr``, ``args`` and attributes (``vars``) of every exception in its
  ``__cause__``/``__context__`` chain, and the formatted traceback;
* XCom (all that was pushed), the return value, the task state store, Variables, Asset events, output files;
* rendered template fields and the operator's and its hooks' attribute reprs;
* triggers: ``serialize()``, ``repr`` and every ``TriggerEvent`` payload;
* the emulator's request log (the key is legitimately *sent*, in ``Agent-Secret-Key``; it must not be *kept*).

One parametrized test over :data:`PATHS` (scenario x fault), so the number of paths is visible in the ids.
A few ``echo`` paths talk to a tiny server that echoes the key back in its error bodies, placed so that the
hook's 200-character snippets cut through the key: the redaction must happen before the truncation.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from airflow.providers.common.compat.sdk import PokeReturnValue, TaskDeferred
from pytest_mock import MockerFixture

from raia_provider._core.retry import RetryPolicy
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider.exceptions import RaiaError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.batch import RaiaBatchPromptOperator
from raia_provider.operators.conversation import RaiaStartConversationOperator
from raia_provider.operators.files import RaiaUploadFilesOperator
from raia_provider.operators.knowledge import RaiaSyncKnowledgeOperator
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.operators.webhook import RaiaCreateWebhookOperator
from raia_provider.sensors.raia import RaiaPromptSensor
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
from raia_provider.triggers.raia import RaiaMessageReplyTrigger, RaiaPromptTrigger
from tests.task_doubles import FakeStateStore, FakeTI

pytestmark = pytest.mark.integration

#: The canary: recognisable, and found nowhere else in the code base or the emulator.
CANARY = "sk-raia-CANARY-d41c8e07f95b2a63"
#: Any run of this many consecutive characters of the key counts as a leak (catches truncated keys).
WINDOW = 8
FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.0)
BOUND = 15.0
PARAMS = {"who": "Ada", "env": "prod"}
LOGGERS = ("", "raia_provider", "urllib3", "requests", "aiohttp", "tenacity", "airflow", "asyncio")


def _key_forms(key: str) -> dict[str, str]:
    """The key and what would give it away: every ``WINDOW``-long piece, base64 at the 3 alignments, URL forms."""
    forms = {"key": key}
    forms.update({f"key[{i}:{i + WINDOW}]": key[i : i + WINDOW] for i in range(len(key) - WINDOW + 1)})
    for pad in range(3):  # base64 of the key inside a longer value (e.g. Basic auth): drop the edge quads
        encoded = base64.b64encode(b"\0" * pad + key.encode()).decode()
        forms[f"base64(align {pad})"] = encoded[4:-4]
        urlsafe = base64.urlsafe_b64encode(b"\0" * pad + key.encode()).decode()[4:-4]
        if urlsafe != forms[f"base64(align {pad})"]:
            forms[f"urlsafe-base64(align {pad})"] = urlsafe
    for name, encode in (("url-encoded", quote), ("form-encoded", quote_plus)):
        if (encoded := encode(key, safe="")) != key:  # only when the encoding changes anything
            forms[name] = encoded
    return forms


FORMS = _key_forms(CANARY)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    try:
        return json.dumps(value, default=repr, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def leaks(value: Any) -> list[str]:
    """Names of the key's forms found in ``value`` (text, or an object dumped as JSON with ``repr`` fallback)."""
    text = _text(value)
    return [name for name, form in FORMS.items() if form in text]


def assert_no_secret(value: Any, where: str) -> None:
    """Fail, saying where and in which form, if the key (or a piece or encoding of it) is in ``value``.

    :param value: text, or any object (dumped as JSON, ``repr`` for what JSON cannot hold).
    :param where: what ``value`` is, for the failure message.
    """
    found = leaks(value)
    if found:
        text = _text(value)
        at = min(text.find(FORMS[name]) for name in found)
        raise AssertionError(f"the key leaked in {where} as {found[:3]}: …{text[max(0, at - 120) : at + 80]}…")


def reachable(root: Any, limit: int = 20_000) -> Iterator[str]:
    """The text of everything reachable from ``root`` through attributes and containers (``repr`` of leaves).

    A library's exception kept in ``__context__`` holds the request it failed on, headers included: the key
    must not be reachable that way either.
    """
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack and len(seen) < limit:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, str | bytes | int | float | bool) or current is None:
            yield _text(current)
            continue
        if isinstance(current, RaiaConnectionSettings):  # the key's one holder by design: only its repr
            yield repr(current)
        elif isinstance(current, dict):
            stack += [*current.keys(), *current.values()]
        elif isinstance(current, list | tuple | set | frozenset):
            stack += list(current)
        else:
            yield repr(current)
            attributes = getattr(current, "__dict__", None)
            if isinstance(attributes, dict):
                stack.append(attributes)
            for slot in getattr(type(current), "__slots__", ()):
                stack.append(getattr(current, slot, None))
            if isinstance(current, BaseException):
                stack += [current.args, current.__cause__, current.__context__]


def exception_views(error: BaseException) -> Iterator[tuple[str, Any]]:
    """Every way an exception is shown: each one in the cause/context chain, then the formatted traceback."""
    chain: list[BaseException] = []
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        stack += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]
    for n, current in enumerate(chain):
        name = f"exception #{n} {type(current).__name__}"
        yield f"{name} str", str(current)
        yield f"{name} repr", repr(current)
        yield f"{name} args", current.args
        yield f"{name} attributes", vars(current)
        yield f"{name} everything reachable from it", list(reachable(current))
        yield f"{name} notes", getattr(current, "__notes__", [])
    yield "formatted traceback", "".join(traceback.format_exception(error))


class FakeOutletEvents:
    """``context["outlet_events"]``: what a task adds to each Asset alias."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def __getitem__(self, alias: Any) -> Any:
        added = self.added

        class Accessor:
            def add(self, asset: Any, extra: Any = None) -> None:
                added.append((repr(alias), asset.uri, extra))

        return Accessor()


# -- a server that echoes the key back -------------------------------------------------------------------


class EchoServer:
    """Answers every request with an error body that repeats the ``Agent-Secret-Key`` it was sent.

    ``mode`` picks the body; the padding puts the key across the hook's 200-character snippet cut.
    """

    def __init__(self) -> None:
        self.mode = "echo_403"
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                server.hits += 1
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, content_type, body = server.body(self.headers.get("Agent-Secret-Key", ""))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/external"

    def body(self, key: str) -> tuple[int, str, str]:
        json_type = "application/json"
        if self.mode == "echo_403":
            body = {"status": 403, "name": "FORBIDDEN_ERROR", "message": f"Invalid key {key}", "details": [key]}
            return 403, json_type, json.dumps(body)
        if self.mode == "echo_400_details_cut":  # json.dumps(details)[:200] cuts through the key
            details = [{"field": "x" * 172, "value": key}]
            return 400, json_type, json.dumps({"name": "BAD_REQUEST", "message": "bad", "details": details})
        if self.mode == "echo_502_html_cut":  # the non-JSON snippet's 200 characters cut through the key
            return 502, "text/html", f"<html>{'y' * 180} {key} </html>"
        if self.mode == "echo_200_malformed_cut":  # a 200 body that is not JSON, cut through the key
            return 200, json_type, '{"response": "' + "z" * 180 + key
        raise AssertionError(f"unknown echo mode {self.mode}")

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def echo_server() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


# -- one path's run ----------------------------------------------------------------------------------------

EMULATOR_FAULTS = {"status_403", "status_500", "reset", "malformed_json", "html"}


@dataclass
class Run:
    """What a scenario needs, and the evidence it leaves behind."""

    emulator: RaiaEmulator
    tmp_path: Path
    fault: str
    monkeypatch: pytest.MonkeyPatch
    agent_id: str | None
    echo: EchoServer | None = None
    evidence: list[tuple[str, Any]] = field(default_factory=list)
    ti: FakeTI = field(default_factory=FakeTI)
    store: FakeStateStore = field(default_factory=FakeStateStore)
    outlets: FakeOutletEvents = field(default_factory=FakeOutletEvents)
    hooks: list[RaiaHook] = field(default_factory=list)
    injected: bool = False
    setup_requests: int = 0  # requests a scenario sent with the always-valid ``raia_setup`` connection

    def look(self, where: str, value: Any) -> None:
        self.evidence.append((where, value))

    def context(self) -> Any:
        return {"ti": self.ti, "params": PARAMS, "task_state_store": self.store, "outlet_events": self.outlets}

    def hook(self, conn_id: str = "raia_default", **kwargs: Any) -> RaiaHook:
        hook = RaiaHook(conn_id, **{"retry_policy": FAST, **kwargs})
        self.hooks.append(hook)
        return hook

    def inject(self, method: str = "*", path: str = "*") -> None:
        """Make the requests matching ``method`` and ``path`` fail as this path's fault says (if it is one)."""
        kind = self.fault
        if kind not in EMULATOR_FAULTS:
            return
        if kind.startswith("status_"):
            status = int(kind.removeprefix("status_"))
            self.emulator.inject_fault(kind="status", status=status, method=method, path=path, count=100)
        else:
            self.emulator.inject_fault(kind=kind, method=method, path=path, count=100)  # type: ignore[arg-type]
        self.injected = True

    def prompt_text(self, text: str = "Hello {{ params.who }}") -> str:
        return f"{text} {FAIL_MARKER}" if self.fault == "prompt_failed" else text

    def task(self, operator: Any, *, fault_on: tuple[str, str] | None = None, fault_in_trigger: bool = False) -> Any:
        """Render and run ``operator`` as a task run would; resume it through its trigger if it defers.

        :param operator: the task.
        :param fault_on: ``(method, path)`` the fault hits.
        :param fault_in_trigger: inject the fault only once the task deferred (so only the trigger sees it).
        """
        context = self.context()
        if fault_on is not None and not fault_in_trigger:
            self.inject(*fault_on)
        try:
            operator.render_template_fields(context)
            for name in operator.template_fields:
                self.look(f"rendered template field {name!r}", getattr(operator, name))
            deferred: TaskDeferred | None = None
            try:
                result = operator.execute(context)
            except TaskDeferred as caught:
                deferred = caught
            if deferred is not None:  # resumed outside the handler, as in a new process: no __context__
                self.look("TaskDeferred str", str(deferred))
                self.look("TaskDeferred repr", repr(deferred))
                if fault_on is not None and fault_in_trigger:
                    self.inject(*fault_on)
                if self.fault == "trigger_bad_region":
                    self.set_connection(region="mars")
                event = self.trigger(deferred.trigger)
                result = getattr(operator, deferred.method_name)(context, event)
            if isinstance(result, PokeReturnValue):
                result = result.xcom_value
            self.look("return value (XCom)", result)
            return result
        finally:
            self.look("operator attributes", {k: repr(v) for k, v in vars(operator).items()})

    def trigger(self, trigger: Any) -> Any:
        """Serialize ``trigger``, run it to its event (as the triggerer would), and return the event."""
        self.look("trigger serialize()", trigger.serialize())
        self.look("trigger repr", repr(trigger))

        async def collect() -> list[Any]:
            return [event async for event in trigger.run()]

        events = asyncio.run(asyncio.wait_for(collect(), BOUND))
        for n, event in enumerate(events):
            self.look(f"trigger event #{n}", event.payload)
            self.look(f"trigger event #{n} repr", repr(event))
        self.look("trigger attributes", {k: repr(v) for k, v in vars(trigger).items()})
        return events[0].payload

    def set_connection(self, conn_id: str = "raia_default", password: str = CANARY, **extra: Any) -> None:
        host = self.echo.base_url if self.echo is not None else self.emulator.base_url
        conn = {"conn_type": "raia", "password": password, "host": host, "extra": extra}
        self.monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


# -- the scenarios: one function each, the fault is in ``run.fault`` ---------------------------------------


def hook_sync(run: Run) -> Any:
    run.inject()
    hook = run.hook()
    ok, message = hook.test_connection()
    run.look("test_connection()", (ok, message))
    answer = hook.process_prompt(prompt=run.prompt_text("Hi"))
    run.look("process_prompt()", answer)
    if run.fault == "prompt_failed":
        assert answer.status == "failed"
        return answer
    run.look("get_agent()", hook.get_agent())
    job = hook.create_prompt(prompt="Later")
    run.look("get_prompt_response()", hook.get_prompt_response(prompt_id=job.prompt_id))
    run.look("list_agent_files()", hook.list_agent_files())
    return hook.request("GET", "/agents/by-api-key")


def hook_async(run: Run) -> Any:
    run.inject()

    async def calls() -> Any:
        hook = run.hook()
        try:
            answer = await hook.aprocess_prompt(prompt=run.prompt_text("Hi"))
            run.look("aprocess_prompt()", answer)
            if run.fault == "prompt_failed":
                assert answer.status == "failed"
                return answer
            run.look("aget_agent()", await hook.aget_agent())
            job = await hook.acreate_prompt(prompt="Later")
            run.look("aget_prompt_response()", await hook.aget_prompt_response(prompt_id=job.prompt_id))
            return await hook.arequest("GET", "/agents/by-api-key")
        finally:
            run.look("async hook attributes", {k: repr(v) for k, v in vars(hook).items()})
            await hook.aclose()

    return asyncio.run(calls())


def hook_echo(run: Run) -> Any:
    assert run.echo is not None
    run.echo.mode = run.fault
    run.echo.hits = 0
    hook = run.hook()
    try:
        hook.get_agent()
    except RaiaError as error:
        for where, view in exception_views(error):
            run.look(f"sync {where}", view)
    else:  # pragma: no cover - the echo server only answers errors
        raise AssertionError("the echo server answered")

    async def acall() -> Any:
        ahook = run.hook()
        try:
            return await ahook.aget_agent()
        finally:
            await ahook.aclose()

    return asyncio.run(acall())


def prompt_blocking(run: Run) -> Any:
    operator = RaiaPromptOperator(task_id="ask", prompt=run.prompt_text(), token_tracking_id="{{ params.env }}")
    operator.hook = run.hook()
    return run.task(operator, fault_on=("POST", "/external/prompts"))


def prompt_no_wait(run: Run) -> Any:
    operator = RaiaPromptOperator(task_id="submit", prompt=run.prompt_text(), wait_for_completion=False)
    operator.hook = run.hook()
    return run.task(operator, fault_on=("POST", "/external/prompts/async"))


def prompt_deferrable(run: Run) -> Any:
    operator = RaiaPromptOperator(task_id="ask", prompt=run.prompt_text(), deferrable=True, poll_interval=0.02)
    operator.hook = run.hook()
    return run.task(operator, fault_on=("POST", "/external/prompts/async"))


def prompt_deferrable_poll(run: Run) -> Any:
    operator = RaiaPromptOperator(task_id="ask", prompt=run.prompt_text(), deferrable=True, poll_interval=0.02)
    operator.hook = run.hook()
    return run.task(operator, fault_on=("GET", "/external/prompts/{id}/response-on"), fault_in_trigger=True)


def _setup_prompt(run: Run) -> str:
    """An async prompt of the agent whose key the connection holds (or of another agent, for a wrong key)."""
    setup = run.hook("raia_setup")
    prompt_id: str = setup.create_prompt(prompt=run.prompt_text("Wait for me")).prompt_id
    setup.close()
    run.setup_requests = len(run.emulator.requests())
    return prompt_id


def sensor_poke(run: Run) -> Any:
    prompt_id = _setup_prompt(run)
    run.inject("GET", "/external/prompts/{id}/response-on")
    sensor = RaiaPromptSensor(task_id="wait", prompt_id="{{ params.prompt_id }}", poke_interval=0.02, timeout=BOUND)
    sensor.hook = run.hook()
    context = {**run.context(), "params": {"prompt_id": prompt_id}}
    sensor.render_template_fields(context)
    run.look("rendered template field 'prompt_id'", sensor.prompt_id)
    deadline = time.monotonic() + BOUND
    while not (done := sensor.poke(context)):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert isinstance(done, PokeReturnValue)
    run.look("poke xcom_value", done.xcom_value)
    return done.xcom_value


def sensor_deferrable(run: Run) -> Any:
    run.emulator.configure(prompt_delay=0.1)  # pending at the first poke: the sensor defers
    prompt_id = _setup_prompt(run)
    sensor = RaiaPromptSensor(task_id="wait", prompt_id=prompt_id, deferrable=True, poke_interval=0.02, timeout=BOUND)
    sensor.hook = run.hook()
    return run.task(sensor, fault_on=("GET", "/external/prompts/{id}/response-on"), fault_in_trigger=True)


def _conversation(run: Run) -> str:
    user = run.emulator.seed_user("Ada", "Lovelace", email="ada@example.com", agent_id=run.agent_id)
    return run.emulator.seed_conversation(user.id, title="Order", agent_id=run.agent_id).id


def message_blocking(run: Run) -> Any:
    conversation_id = _conversation(run)
    operator = RaiaSendMessageOperator(
        task_id="send", conversation_id=conversation_id, message=run.prompt_text("Where is my parcel?")
    )
    operator.hook = run.hook()
    return run.task(operator, fault_on=("POST", f"/external/conversations/{conversation_id}/messages"))


def message_deferrable(run: Run) -> Any:
    conversation_id = _conversation(run)
    operator = RaiaSendMessageOperator(
        task_id="send",
        conversation_id=conversation_id,
        message=run.prompt_text("Where is my parcel?"),
        deferrable=True,
        poll_interval=0.02,
    )
    operator.hook = run.hook()
    return run.task(operator, fault_on=("POST", f"/external/conversations/{conversation_id}/messages/async"))


def message_deferrable_poll(run: Run) -> Any:
    conversation_id = _conversation(run)
    operator = RaiaSendMessageOperator(
        task_id="send",
        conversation_id=conversation_id,
        message=run.prompt_text("Where is my parcel?"),
        deferrable=True,
        poll_interval=0.02,
    )
    operator.hook = run.hook()
    path = f"/external/conversations/{conversation_id}/messages/{{id}}/response-on"
    return run.task(operator, fault_on=("GET", path), fault_in_trigger=True)


def _batch(run: Run, mode: str) -> Any:
    records = [{"id": f"r{n}", "city": f"City {n}"} for n in range(4)]
    if run.fault == "prompt_failed":
        records[2]["city"] += f" {FAIL_MARKER}"
    out = run.tmp_path / "out"
    operator = RaiaBatchPromptOperator(
        task_id="enrich",
        records=records,
        key_field="id",
        prompt_template="Describe {{ city }}",
        output_path=str(out / "answers.jsonl"),
        prompt_mode=mode,  # type: ignore[arg-type]
        poll_interval=0.02,
        checkpoint_interval=0.05,
        row_retry_policy=FAST,
        token_tracking_id="{{ params.env }}",
    )
    path = "/external/prompts" if mode == "sync" else "/external/prompts/async"
    try:
        return run.task(operator, fault_on=("POST", path))
    finally:
        for written in sorted(out.rglob("*")) if out.exists() else []:
            if written.is_file():
                run.look(f"batch output file {written.name}", written.read_text())


def batch_sync(run: Run) -> Any:
    return _batch(run, "sync")


def batch_async(run: Run) -> Any:
    return _batch(run, "async")


def upload_files(run: Run) -> Any:
    docs = run.tmp_path / "docs"
    docs.mkdir()
    for name in ("a.md", "b.md"):
        (docs / name).write_text(f"Knowledge in {name}.")
    operator = RaiaUploadFilesOperator(task_id="kb", paths=f"{docs}/*.md", vector_store="sync")
    operator.hook = run.hook()
    return run.task(operator, fault_on=("POST", "/external/agent-files/upload"))


def start_conversation(run: Run) -> Any:
    operator = RaiaStartConversationOperator(
        task_id="start",
        channel="email",
        first_name="{{ params.who }}",
        last_name="Lovelace",
        user_email="ada@example.com",
        email_subject="Welcome",
        email_introduction="Hello {{ params.who }}",
        custom_data={"plan": "pro"},
    )
    operator.hook = run.hook()
    return run.task(operator, fault_on=("POST", "/external/conversations/start"))


def create_webhook(run: Run) -> Any:
    run.monkeypatch.setattr("raia_provider.operators.webhook.RETRY_POLICY", FAST)
    operator = RaiaCreateWebhookOperator(
        task_id="register",
        title="CRM sync ({{ params.env }})",
        description="push finished conversations",
        url="https://crm.example.com/{{ params.env }}/raia",
        trigger_condition="end_dialog",
        headers={"Authorization": "Bearer whsec-not-the-key"},
    )
    return run.task(operator, fault_on=("POST", "/external/agents/webhooks"))


def sync_knowledge(run: Run, mocker: MockerFixture) -> Any:
    variables: dict[str, str] = {}
    variable = mocker.patch("airflow.sdk.Variable")
    variable.get.side_effect = lambda key, default=None: variables.get(key, default)
    variable.set.side_effect = lambda key, value, description=None: variables.__setitem__(key, value)
    kb = run.tmp_path / "kb"
    kb.mkdir()
    for name in ("faq.md", "returns.md"):
        (kb / name).write_text(f"Knowledge in {name}.")
    operator = RaiaSyncKnowledgeOperator(task_id="sync", source=str(kb), poll_interval=0.02, vector_store_timeout=BOUND)
    operator.hook = run.hook()
    try:
        return run.task(operator, fault_on=("POST", "/external/agent-files/upload"))
    finally:
        run.look("Airflow Variables", variables)
        run.look("Asset events", run.outlets.added)


# -- the paths ---------------------------------------------------------------------------------------------

#: Every scenario meets these: success, the key refused (unknown key, then an injected 403), a 5xx until the
#: retries are spent, the connection reset, a truncated JSON body, a proxy's HTML page, and an unknown region.
COMMON = ("ok", "wrong_key", "status_403", "status_500", "reset", "malformed_json", "html", "bad_region")
#: Faults that reach only the trigger (the task deferred fine), incl. a connection broken while deferred.
TRIGGER = ("ok", "status_403", "status_500", "reset", "malformed_json", "html", "prompt_failed", "trigger_bad_region")
BAD_CONFIG = ("bad_region", "key_with_whitespace", "host_with_credentials", "bad_host_with_credentials")
ECHO = ("echo_403", "echo_400_details_cut", "echo_502_html_cut", "echo_200_malformed_cut")

SCENARIOS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "hook-sync": (hook_sync, (*COMMON, "prompt_failed", *BAD_CONFIG[1:])),
    "hook-async": (hook_async, (*COMMON, "prompt_failed")),
    "hook-echo": (hook_echo, ECHO),
    "prompt-blocking": (prompt_blocking, (*COMMON, "prompt_failed")),
    "prompt-no-wait": (prompt_no_wait, COMMON),
    "prompt-deferrable": (prompt_deferrable, COMMON),
    "prompt-deferrable-trigger": (prompt_deferrable_poll, TRIGGER),
    "sensor-poke": (sensor_poke, (*COMMON, "prompt_failed")),
    "sensor-deferrable-trigger": (sensor_deferrable, TRIGGER),
    "message-blocking": (message_blocking, (*COMMON, "prompt_failed")),
    "message-deferrable": (message_deferrable, COMMON),
    "message-deferrable-trigger": (message_deferrable_poll, TRIGGER),
    "batch-sync": (batch_sync, (*COMMON, "prompt_failed")),
    "batch-async": (batch_async, (*COMMON, "prompt_failed")),
    "upload-files": (upload_files, COMMON),
    "start-conversation": (start_conversation, COMMON),
    "create-webhook": (create_webhook, COMMON),
    "sync-knowledge": (sync_knowledge, COMMON),
}
#: Paths that end normally although the fault is not "ok": the hook returns a failed prompt, it does not raise.
NO_ERROR = {("hook-sync", "prompt_failed"), ("hook-async", "prompt_failed")}
PATHS = [(scenario, fault) for scenario, (_, faults) in SCENARIOS.items() for fault in faults]


def test_every_scenario_is_covered_for_its_faults() -> None:
    assert len(PATHS) == len(set(PATHS)) > 100


@pytest.mark.parametrize(("scenario", "fault"), PATHS, ids=[f"{s}:{f}" for s, f in PATHS])
def test_the_key_leaks_nowhere(
    scenario: str,
    fault: str,
    emulator: RaiaEmulator,
    echo_server: EchoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mocker: MockerFixture,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(RaiaPromptTrigger, "retry_policy", FAST)
    monkeypatch.setattr(RaiaMessageReplyTrigger, "retry_policy", FAST)
    emulator.configure(prompt_delay=0.05, message_delay=0.05, vector_store_delay=0.05)
    # A wrong key is one raia does not know: the canary is then simply not registered.
    agent_id = None if fault == "wrong_key" else emulator.add_agent(key=CANARY, name="Canary").id
    run = Run(emulator, tmp_path, fault, monkeypatch, agent_id, echo=echo_server if fault in ECHO else None)
    run.set_connection()
    run.set_connection("raia_setup", password=CANARY if agent_id else emulator.default_key)
    if fault == "bad_region":
        run.set_connection(region="mars")
    elif fault == "key_with_whitespace":
        run.set_connection(password=f"{CANARY[:12]} {CANARY[12:]}")
    elif fault in ("host_with_credentials", "bad_host_with_credentials"):
        scheme = "http" if fault == "host_with_credentials" else "ftp"
        host = f"{scheme}://agent:{CANARY}@127.0.0.1:{emulator.port}/external"
        monkeypatch.setenv(
            "AIRFLOW_CONN_RAIA_DEFAULT", json.dumps({"conn_type": "raia", "password": CANARY, "host": host})
        )

    function, _ = SCENARIOS[scenario]
    error: BaseException | None = None
    try:
        result = function(run, mocker) if function is sync_knowledge else function(run)
        run.look("scenario result", result)
    except Exception as caught:
        error = caught
    finally:
        for hook in run.hooks:
            run.look("hook attributes", {k: repr(v) for k, v in vars(hook).items()})
            hook.close()

    if error is not None:
        run.evidence += list(exception_views(error))
    captured = capsys.readouterr()
    run.look("captured logs (stdlib, via caplog)", caplog.text)
    run.look("captured stdout (task logger)", captured.out)
    run.look("captured stderr", captured.err)
    run.look("XCom pushed", run.ti.pushed)
    run.look("task state store", run.store.data)
    run.look("emulator request log", [repr(request) for request in emulator.requests()])

    problems = []
    for where, value in run.evidence:
        try:
            assert_no_secret(value, where)
        except AssertionError as leak:
            problems.append(str(leak))
    assert not problems, f"{len(problems)} leak(s):\n" + "\n".join(problems)

    # The path really went where it says: success, or a failure of the provider's own kind.
    if fault == "ok" or (scenario, fault) in NO_ERROR:
        assert error is None, "".join(traceback.format_exception(error)) if error else ""
    else:
        assert isinstance(error, RaiaError), repr(error)
    if fault in EMULATOR_FAULTS:
        assert run.injected
        assert any(request.fault for request in emulator.requests()), "the injected fault was never hit"
    elif fault == "wrong_key":
        assert any(request.status == 403 for request in emulator.requests())
    elif fault in BAD_CONFIG:
        sent = emulator.requests()[run.setup_requests :]
        assert not sent, "a request was sent with an unusable connection"
    elif fault in ECHO:
        assert echo_server.hits > 0


# -- the search itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "planted",
    [
        CANARY,
        f"Agent-Secret-Key: {CANARY}",
        CANARY[:10],  # the start of a key cut short
        CANARY[-9:],
        CANARY[10:20],
        base64.b64encode(CANARY.encode()).decode(),
        base64.b64encode(f"agent:{CANARY}".encode()).decode(),  # e.g. Basic auth
    ],
)
def test_the_search_finds_a_planted_key(planted: str) -> None:
    with pytest.raises(AssertionError, match="the key leaked in a log"):
        assert_no_secret(f"some text {planted} more text", "a log")
    with pytest.raises(AssertionError, match="leaked in XCom"):
        assert_no_secret({"result": [{"deep": planted}]}, "XCom")
    try:
        try:
            raise ValueError("outer")
        except ValueError:
            raise RuntimeError("wrapped") from KeyError(planted)
    except RuntimeError as error:
        views = dict(exception_views(error))
    assert any(leaks(view) for view in views.values())


def test_the_search_ignores_text_without_the_key() -> None:
    assert_no_secret("raia answered GET /agents/by-api-key with HTTP 403 (FORBIDDEN_ERROR); key ***", "a log")
    assert_no_secret({"prompt_id": "0b6c1f1e-5f43-4d1c-9a7e-2f7c5a0d9e11"}, "XCom")
