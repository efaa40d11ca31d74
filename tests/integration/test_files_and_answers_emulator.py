"""Documents in, structured data out: attached files and structured answers against the emulator, over real sockets.

The storage service behind the signed upload URLs listens on another loopback host (``127.0.0.2``) than raia's
API, as a cloud bucket is another host than raia: the bytes of a file can only reach it by its signed URL, and it
refuses (and records, ``key_leaks()``) any request carrying the ``Agent-Secret-Key`` header. The tests prove the
bytes arrive intact (size and SHA-256), the key never goes there, a retry re-uses an earlier try's uploads, and
an agent with an output JSON Schema gives data, or a :class:`RaiaAnswerFormatError` naming where it went wrong.

A deferred task runs as the triggerer and a worker would run it: the trigger is rebuilt from what it
serializes, and ``execute_complete`` runs on a fresh copy of the operator, so nothing crosses the deferral but
the trigger's kwargs and the defer kwargs.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from airflow.providers.common.compat.sdk import TaskDeferred
from airflow.sdk import ObjectStoragePath

from raia_provider.exceptions import RaiaAnswerFormatError, RaiaBadRequestError, RaiaInputError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.testing import SCHEMA_MISMATCH_MARKER, ArrivedFile, RaiaEmulator, answer_for
from raia_provider.triggers.raia import RaiaPromptTrigger
from tests.integration.conftest import FAST_RETRIES
from tests.task_doubles import FakeStateStore, FakeTI

pytestmark = pytest.mark.integration

STORAGE_HOST = "127.0.0.2"
#: Upper bound on any wait for an answer; a healthy run takes well under a second.
BOUND = 15.0
AGENTS_PATH = "/external/agents/by-api-key"
PROMPT_UPLOAD_URL = "/external/prompts/upload-url"
INVOICES_KEY = "sk-raia-INVOICES-2b8d4e6f1a"
INVOICE_AGENT = "Invoice Reader"
INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "total": {"type": "number", "minimum": 0},
    },
    "required": ["vendor", "date", "total"],
    "additionalProperties": False,
}
#: The same fields, none required: a mismatching answer then breaks a field's type, not the object.
LOOSE_INVOICE_SCHEMA: dict[str, Any] = {k: v for k, v in INVOICE_SCHEMA.items() if k != "required"}


def _bindable(host: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def storage_apart() -> Iterator[RaiaEmulator]:
    """One emulator for this module, its storage service on another loopback host than its API."""
    if not _bindable(STORAGE_HOST):
        pytest.skip(f"{STORAGE_HOST} cannot be bound here")
    with RaiaEmulator(storage_host=STORAGE_HOST) as emulator:
        yield emulator


@pytest.fixture
def emulator(storage_apart: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> RaiaEmulator:
    """This module's emulator, reset, with ``raia_default`` at it (in place of the session emulator)."""
    storage_apart.reset()
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT",
        json.dumps({"conn_type": "raia", "password": storage_apart.default_key, "host": storage_apart.base_url}),
    )
    return storage_apart


@pytest.fixture(autouse=True)
def fast_trigger_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RaiaPromptTrigger, "retry_policy", FAST_RETRIES)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    # Bigger than a 1 MiB stream chunk, with every byte value: a truncated or re-encoded stream changes the hash.
    (folder / "invoice.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 6000 + b"%%EOF\n")
    (folder / "notes.md").write_text("Pay within 30 days. Vendor: Acme GmbH.\n", encoding="utf-8")
    return folder


@pytest.fixture
def invoices(emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """An agent with the invoice output schema, and a ``raia_invoices`` connection to it; returns the conn id."""
    emulator.add_agent(INVOICES_KEY, INVOICE_AGENT, output_json_schema=INVOICE_SCHEMA)
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_INVOICES",
        json.dumps({"conn_type": "raia", "password": INVOICES_KEY, "host": emulator.base_url}),
    )
    return "raia_invoices"


def context(store: FakeStateStore | None = None) -> Any:  # an Airflow Context, for the operator
    return {"ti": FakeTI(), **({"task_state_store": store} if store is not None else {})}


async def run_task(make: Callable[[], Any], ctx: Any) -> Any:
    """Run a task as Airflow does: ``execute``; on a deferral, the trigger rebuilt from what it serializes
    (as the triggerer does), then ``execute_complete`` on a fresh copy of the operator (as the resuming worker
    does) with the defer kwargs after a JSON round trip."""
    operator = make()
    try:
        return await asyncio.to_thread(operator.execute, ctx)
    except TaskDeferred as raised:
        deferred = raised
    finally:
        operator.hook.close()
    assert deferred.method_name == "execute_complete"
    classpath, trigger_kwargs = deferred.trigger.serialize()
    resume_kwargs = json.loads(json.dumps(deferred.kwargs or {}))
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(trigger_kwargs)))
    events = await asyncio.wait_for(_events(trigger), BOUND)
    assert len(events) == 1, events
    resumed = make()
    return await asyncio.to_thread(resumed.execute_complete, ctx, events[0], **resume_kwargs)


async def _events(trigger: Any) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_note(*paths: Path) -> str:
    """The end of the emulated agent's answer citing ``paths`` (its documented form), from the files on disk."""
    cited = (f"{p.name} ({p.stat().st_size} bytes, sha256 {sha256_of(p)[:16]})" for p in paths)
    return f" [files: {', '.join(cited)}]"


def assert_arrived_intact(emulator: RaiaEmulator, *paths: Path) -> None:
    """Each file was uploaded once, its bytes arrived whole, with the content type its signed URL was issued for."""
    uploads = emulator.uploads()
    assert sorted(u.file_name for u in uploads) == sorted(p.name for p in paths)
    for path in paths:
        (upload,) = [u for u in uploads if u.file_name == path.name]
        assert (upload.size, upload.sha256) == (path.stat().st_size, sha256_of(path)), path.name
        assert upload.put_content_type == upload.content_type, path.name


def assert_storage_never_saw_the_key(emulator: RaiaEmulator, key: str) -> None:
    """The storage service is on another host, refused no request for carrying the key, and kept no trace of it."""
    assert urllib.parse.urlsplit(emulator.storage_url).hostname == STORAGE_HOST
    assert urllib.parse.urlsplit(emulator.base_url).hostname != STORAGE_HOST
    assert emulator.key_leaks() == []
    for upload in emulator.uploads():
        assert key not in repr(asdict(upload))
        assert key.encode() not in (upload.data or b"")


# -- 1. files reach the storage host, on every path of the prompt operator ----------------------------------


@pytest.mark.parametrize("path", ["blocking", "deferrable", "submit-only"])
async def test_prompt_files_reach_the_storage_host_intact_and_without_the_key(
    emulator: RaiaEmulator, docs: Path, path: str
) -> None:
    prompt = "Summarise the invoice"
    files = [ObjectStoragePath(f"file://{docs}/invoice.pdf"), str(docs / "*.md")]  # an object path and a glob

    def make() -> RaiaPromptOperator:
        return RaiaPromptOperator(
            task_id="ask",
            prompt=prompt,
            files=files,
            deferrable=path == "deferrable",
            wait_for_completion=path != "submit-only",
            poll_interval=0.02,
            timeout=BOUND,
        )

    result = await run_task(make, context())
    note = files_note(docs / "invoice.pdf", docs / "notes.md")
    expected = f"[{emulator.default_agent.name}] answer to: {prompt}{note}"
    if path == "submit-only":
        answer = await asyncio.to_thread(wait_for_answer, result)
    else:
        answer = result["response"]
    assert answer == expected  # the agent read the very bytes on disk, in the order they were named

    assert_arrived_intact(emulator, docs / "invoice.pdf", docs / "notes.md")
    (asked,) = emulator.requests("POST", "/external/prompts" if path == "blocking" else "/external/prompts/async")
    assert asked.body["files"] == [{"fileName": u.file_name, "storagePath": u.storage_path} for u in emulator.uploads()]
    # Only a task that waits for the answer reads the agent's profile (for its output schema).
    assert len(emulator.requests("GET", AGENTS_PATH)) == (0 if path == "submit-only" else 1)
    assert_storage_never_saw_the_key(emulator, emulator.default_key)


def wait_for_answer(prompt_id: str) -> str:
    """Poll the submitted prompt (as a sensor downstream would) until it is answered; return the answer."""
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    try:
        deadline = time.monotonic() + BOUND
        while (answer := hook.get_prompt_response(prompt_id=prompt_id)) is None or answer.status == "pending":
            assert time.monotonic() < deadline, f"prompt {prompt_id} was not answered within {BOUND} s"
            time.sleep(0.02)
    finally:
        hook.close()
    assert answer.status == "completed", answer
    assert answer.response is not None
    return answer.response


# -- 2. the negative control: the leak detector does see a key sent to storage -----------------------------


def test_the_leak_detector_sees_a_key_sent_to_the_storage_host(emulator: RaiaEmulator) -> None:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    try:
        signed = hook.create_prompt_upload_url(file_name="leak.txt", content_type="text/plain")
    finally:
        hook.close()
    assert urllib.parse.urlsplit(signed.signed_url).hostname == STORAGE_HOST
    refused = requests.put(
        signed.signed_url, data=b"secret sauce", headers={"Agent-Secret-Key": emulator.default_key}, timeout=5
    )
    assert refused.status_code == 403
    (leak,) = emulator.key_leaks()
    assert (leak.method, leak.agent_id) == ("PUT", emulator.default_agent.id)
    assert urllib.parse.urlsplit(signed.signed_url).path == leak.path
    (upload,) = emulator.uploads()
    assert upload.size is None  # refused: nothing was stored
    with pytest.raises(AssertionError):  # so the check the other tests make would have failed
        assert_storage_never_saw_the_key(emulator, emulator.default_key)


# -- 3. files attached to a conversation message ------------------------------------------------------------


def test_message_files_reach_the_storage_host_in_a_seeded_conversation(emulator: RaiaEmulator, docs: Path) -> None:
    user = emulator.seed_user("Ada", "Lovelace", email="ada@example.com")
    conversation = emulator.seed_conversation(user.id, title="Invoice query")
    message = "Is this invoice paid?"
    operator = RaiaSendMessageOperator(
        task_id="send", conversation_id=conversation.id, message=message, files=[docs / "invoice.pdf", docs]
    )
    try:
        result = operator.execute(context())
    finally:
        operator.hook.close()

    invoice, notes = docs / "invoice.pdf", docs / "notes.md"  # the folder adds notes.md; invoice.pdf once
    assert result["response"] == f"[{emulator.default_agent.name}] answer to: {message}{files_note(invoice, notes)}"
    assert result["conversation_id"] == conversation.id
    assert_arrived_intact(emulator, invoice, notes)
    upload_urls = emulator.requests("POST", f"/external/conversations/{conversation.id}/message-files/upload-url")
    assert len(upload_urls) == 2
    assert emulator.requests("POST", PROMPT_UPLOAD_URL) == []
    (question,) = [m for m in emulator.messages(conversation.id) if m.id == result["question_message_id"]]
    assert [(f.file_name, f.size, f.sha256) for f in question.files] == [
        (p.name, p.stat().st_size, sha256_of(p)) for p in (invoice, notes)
    ]
    assert_storage_never_saw_the_key(emulator, emulator.default_key)


# -- 4. a retry re-uses the uploads of the failed try -------------------------------------------------------


@pytest.mark.parametrize("path", ["blocking", "deferrable"])
async def test_a_retry_reuses_the_uploads_of_the_failed_try(emulator: RaiaEmulator, docs: Path, path: str) -> None:
    submit_path = "/external/prompts" if path == "blocking" else "/external/prompts/async"
    # The first try's prompt is refused after its files are uploaded (a 400 is not retried within the try).
    emulator.inject_fault(kind="status", status=400, method="POST", path=submit_path)
    store = FakeStateStore()  # what Airflow 3.3 keeps for the task instance from one try to the next

    def make() -> RaiaPromptOperator:
        return RaiaPromptOperator(
            task_id="ask",
            prompt="Summarise the invoice",
            files=[docs / "invoice.pdf", docs / "notes.md"],
            output_format="text",
            deferrable=path == "deferrable",
            poll_interval=0.02,
            timeout=BOUND,
        )

    with pytest.raises(RaiaBadRequestError):
        await run_task(make, context(store))
    first_uploads = emulator.uploads()
    assert len(first_uploads) == 2

    result = await run_task(make, context(store))  # the retry: a fresh operator, the same task state store
    assert emulator.uploads() == first_uploads  # no signed URL asked for, nothing PUT again
    assert len(emulator.requests("POST", PROMPT_UPLOAD_URL)) == 2
    refused, asked = emulator.requests("POST", submit_path)
    assert (refused.status, asked.status) == (400, 200)
    cited = [{"fileName": u.file_name, "storagePath": u.storage_path} for u in first_uploads]
    assert refused.body["files"] == asked.body["files"] == cited
    # The answer reads the bytes the first try uploaded.
    assert result["response"].endswith(files_note(docs / "invoice.pdf", docs / "notes.md"))
    assert_storage_never_saw_the_key(emulator, emulator.default_key)


# -- 5. structured answers from an agent with an output JSON Schema ------------------------------------------


@pytest.mark.parametrize("path", ["blocking", "deferrable"])
async def test_the_agent_schema_turns_the_answer_into_data(
    emulator: RaiaEmulator, invoices: str, docs: Path, path: str
) -> None:
    prompt = "Extract vendor, date and total"

    def make() -> RaiaPromptOperator:
        return RaiaPromptOperator(
            task_id="extract",
            prompt=prompt,
            files=docs / "invoice.pdf",
            raia_conn_id=invoices,
            deferrable=path == "deferrable",
            poll_interval=0.02,
            timeout=BOUND,
        )

    result = await run_task(make, context())
    data = result["response"]
    jsonschema.validate(data, INVOICE_SCHEMA)
    assert sorted(data) == ["date", "total", "vendor"]
    invoice = docs / "invoice.pdf"
    arrived = ArrivedFile(invoice.name, invoice.stat().st_size, sha256_of(invoice))
    answered, _ = answer_for(prompt, INVOICE_AGENT, files=[arrived], output_schema=INVOICE_SCHEMA)
    assert data == json.loads(answered)  # exactly what the agent answered about that document, parsed
    assert len(emulator.requests("GET", AGENTS_PATH)) == 1  # the profile, read once, before any deferral
    assert_arrived_intact(emulator, docs / "invoice.pdf")
    assert_storage_never_saw_the_key(emulator, INVOICES_KEY)


def test_an_answer_that_is_not_json_names_the_whole_answer(emulator: RaiaEmulator, invoices: str) -> None:
    emulator.configure(json_answers="invalid")
    prompt = "Extract vendor, date and total"
    operator = RaiaPromptOperator(task_id="extract", prompt=prompt, raia_conn_id=invoices)
    try:
        with pytest.raises(RaiaAnswerFormatError) as caught:
            operator.execute(context())
    finally:
        operator.hook.close()
    assert caught.value.path == "$"
    assert "not valid JSON" in caught.value.reason
    answered, _ = answer_for(prompt, INVOICE_AGENT, output_schema=INVOICE_SCHEMA, json_answers="invalid")
    assert caught.value.answer == answered  # the raw answer is kept


@pytest.mark.parametrize(
    ("schema", "path", "where", "reason"),
    [
        (INVOICE_SCHEMA, "deferrable", "$", "'vendor' is a required property"),
        (LOOSE_INVOICE_SCHEMA, "blocking", "$.vendor", "12345 is not of type 'string'"),
    ],
    ids=["missing-field-deferred", "wrong-type-blocking"],
)
async def test_an_answer_that_breaks_the_schema_names_the_path(
    emulator: RaiaEmulator, invoices: str, schema: dict[str, Any], path: str, where: str, reason: str
) -> None:
    emulator.set_agent_output_schema(INVOICES_KEY, schema)

    def make() -> RaiaPromptOperator:
        return RaiaPromptOperator(
            task_id="extract",
            prompt=f"Extract vendor, date and total {SCHEMA_MISMATCH_MARKER}",
            raia_conn_id=invoices,
            deferrable=path == "deferrable",
            poll_interval=0.02,
            timeout=BOUND,
        )

    with pytest.raises(RaiaAnswerFormatError) as caught:
        await run_task(make, context())
    assert (caught.value.path, caught.value.reason) == (where, reason)
    assert f"at {where}: {reason}" in str(caught.value)


def test_output_format_text_keeps_the_json_text_without_reading_the_profile(
    emulator: RaiaEmulator, invoices: str
) -> None:
    operator = RaiaPromptOperator(
        task_id="extract", prompt="Extract vendor, date and total", raia_conn_id=invoices, output_format="text"
    )
    try:
        result = operator.execute(context())
    finally:
        operator.hook.close()
    assert isinstance(result["response"], str)
    jsonschema.validate(json.loads(result["response"]), INVOICE_SCHEMA)
    assert emulator.requests("GET", AGENTS_PATH) == []
    assert len(emulator.requests("POST", "/external/prompts")) == 1


# -- 6. a missing file fails the task before any request -----------------------------------------------------


@pytest.mark.parametrize("operator_class", [RaiaPromptOperator, RaiaSendMessageOperator])
def test_a_missing_file_fails_before_any_request(emulator: RaiaEmulator, docs: Path, operator_class: type) -> None:
    missing = docs / "gone.pdf"
    files = [docs / "invoice.pdf", missing]  # the first one exists: nothing is uploaded either
    operator: RaiaPromptOperator | RaiaSendMessageOperator
    if operator_class is RaiaPromptOperator:
        operator = RaiaPromptOperator(task_id="ask", prompt="Summarise", files=files)
    else:
        user = emulator.seed_user("Ada", "Lovelace", email="ada@example.com")
        conversation = emulator.seed_conversation(user.id)  # seeded through the control API, not /external
        operator = RaiaSendMessageOperator(task_id="send", conversation_id=conversation.id, message="Hi", files=files)
    with pytest.raises(RaiaInputError, match="files") as caught:
        operator.execute(context())
    assert "gone.pdf" in str(caught.value)
    assert emulator.requests() == []
    assert emulator.uploads() == []
