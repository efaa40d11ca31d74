"""Files attached to prompts and messages (issue 17, part 1), mocked at the HTTP layer (``responses``).

raia hands out a signed URL on a storage host; the bytes go there without the connection's key, then the
prompt (or message) names the file by its ``storagePath``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from airflow.providers.common.compat.sdk import TaskDeferred

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import RaiaInputError, RaiaStorageError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.operators.prompt import RaiaPromptOperator
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.task_doubles import FakeStateStore, FakeTI
from tests.unit.payloads import ANSWER_MESSAGE, QUESTION_MESSAGE

pytestmark = pytest.mark.usefixtures("unit_connection", "text_agent")

STORAGE = "https://storage.example.test"
SIGNATURE = "X-Goog-Signature=0123456789abcdef"
COMPLETED = {"status": "completed", "totalTokens": 7, "response": "Read them.", "error": None}


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "invoice.pdf").write_bytes(b"%PDF-1.4 invoice 0001\n" * 50)
    (folder / "notes.md").write_text("# Notes\nnot a template {{ nope }}\n", encoding="utf-8")
    return folder


class Storage:
    """The storage host behind the signed URLs: records what each PUT carried."""

    def __init__(self, mocked: responses.RequestsMock) -> None:
        self.mocked = mocked
        self.puts: list[dict[str, Any]] = []
        self.issued = 0

    def issue(self, path: str = "/prompts/upload-url", *, put_status: int = 200, count: int = 1) -> None:
        for _ in range(count):
            self.issued += 1
            token = f"t{self.issued}"
            self.mocked.post(
                UNIT_BASE_URL + path,
                json={"signedUrl": f"{STORAGE}/bucket/{token}?{SIGNATURE}", "storagePath": f"prompt-files/{token}"},
            )
            self.mocked.add_callback(responses.PUT, f"{STORAGE}/bucket/{token}", callback=self._put(put_status))

    def _put(self, status: int) -> Any:
        def record(request: Any) -> tuple[int, dict[str, str], str]:
            body = request.body
            data = body if isinstance(body, bytes) else body.read() if hasattr(body, "read") else b"".join(body or ())
            self.puts.append({"url": request.url, "headers": dict(request.headers), "data": data})
            return status, {}, "" if status < 300 else "<Error><Code>AccessDenied</Code></Error>"

        return record


@pytest.fixture
def storage(mocked: responses.RequestsMock) -> Storage:
    return Storage(mocked)


def raia_bodies(mocked: responses.RequestsMock, path: str) -> list[Any]:
    return [json.loads(call.request.body) for call in mocked.calls if call.request.url == UNIT_BASE_URL + path]


def context(store: FakeStateStore | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"ti": FakeTI()}
    if store is not None:
        ctx["task_state_store"] = store
    return ctx


def test_a_blocking_prompt_uploads_each_file_then_names_them(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue(count=2)
    mocked.post(UNIT_BASE_URL + "/prompts", json=COMPLETED)
    operator = RaiaPromptOperator(task_id="ask", prompt="Summarise", files=[docs / "invoice.pdf", docs / "notes.md"])

    assert operator.execute(context())["response"] == "Read them."

    assert raia_bodies(mocked, "/prompts/upload-url") == [
        {"fileName": "invoice.pdf", "contentType": "application/pdf"},
        {"fileName": "notes.md", "contentType": "text/markdown"},
    ]
    assert [put["data"] for put in storage.puts] == [
        (docs / "invoice.pdf").read_bytes(),
        (docs / "notes.md").read_bytes(),
    ]
    assert [put["headers"]["Content-Type"] for put in storage.puts] == ["application/pdf", "text/markdown"]
    assert [put["headers"]["Content-Length"] for put in storage.puts] == [
        str((docs / name).stat().st_size) for name in ("invoice.pdf", "notes.md")
    ]
    assert raia_bodies(mocked, "/prompts")[0]["files"] == [
        {"fileName": "invoice.pdf", "storagePath": "prompt-files/t1"},
        {"fileName": "notes.md", "storagePath": "prompt-files/t2"},
    ]


def test_the_storage_host_never_gets_the_key_or_any_raia_header(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue()
    mocked.post(UNIT_BASE_URL + "/prompts", json=COMPLETED)
    RaiaPromptOperator(task_id="ask", prompt="Summarise", files=str(docs / "invoice.pdf")).execute(context())

    (put,) = storage.puts
    assert put["url"].startswith(STORAGE)
    assert "agent-secret-key" not in {name.lower() for name in put["headers"]}
    assert TEST_KEY not in json.dumps(put["headers"])
    raia_call = next(call for call in mocked.calls if call.request.url == UNIT_BASE_URL + "/prompts/upload-url")
    assert raia_call.request.headers["Agent-Secret-Key"] == TEST_KEY  # the key goes to raia, and only there


def test_a_deferrable_prompt_submits_with_its_files_and_defers(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue()
    mocked.post(UNIT_BASE_URL + "/prompts/async", json={"promptId": "p-1"})
    operator = RaiaPromptOperator(task_id="ask", prompt="Summarise", files=str(docs / "*.pdf"), deferrable=True)

    with pytest.raises(TaskDeferred):
        operator.execute(context())

    assert raia_bodies(mocked, "/prompts/async")[0]["files"] == [
        {"fileName": "invoice.pdf", "storagePath": "prompt-files/t1"}
    ]


def test_submit_only_returns_the_prompt_id_after_uploading(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue()
    mocked.post(UNIT_BASE_URL + "/prompts/async", json={"promptId": "p-9"})
    operator = RaiaPromptOperator(
        task_id="ask", prompt="Summarise", files=[str(docs / "invoice.pdf")], wait_for_completion=False
    )

    assert operator.execute(context()) == "p-9"
    assert len(storage.puts) == 1


def test_a_file_that_cannot_be_read_fails_before_any_request(mocked: responses.RequestsMock, docs: Path) -> None:
    operator = RaiaPromptOperator(task_id="ask", prompt="Summarise", files=[docs / "invoice.pdf", docs / "gone.pdf"])

    with pytest.raises(RaiaInputError, match=r"argument 'files': .*gone\.pdf.* does not exist"):
        operator.execute(context())
    assert len(mocked.calls) == 0


def test_a_pattern_matching_nothing_fails_before_any_request(mocked: responses.RequestsMock, docs: Path) -> None:
    operator = RaiaPromptOperator(task_id="ask", prompt="Summarise", files=str(docs / "*.xlsx"))

    with pytest.raises(RaiaInputError, match=r"argument 'files': the pattern .* matches no file"):
        operator.execute(context())
    assert len(mocked.calls) == 0


def test_a_bad_content_type_fails_before_any_request(mocked: responses.RequestsMock, docs: Path) -> None:
    operator = RaiaPromptOperator(
        task_id="ask", prompt="Summarise", files=docs / "notes.md", file_content_type="markdown"
    )

    with pytest.raises(RaiaInputError, match=r"argument 'file_content_type': content type 'markdown'"):
        operator.execute(context())
    assert len(mocked.calls) == 0


def test_a_given_content_type_is_asked_for_and_sent(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue()
    mocked.post(UNIT_BASE_URL + "/prompts", json=COMPLETED)
    RaiaPromptOperator(
        task_id="ask", prompt="Summarise", files=docs / "notes.md", file_content_type="text/plain"
    ).execute(context())

    assert raia_bodies(mocked, "/prompts/upload-url") == [{"fileName": "notes.md", "contentType": "text/plain"}]
    assert storage.puts[0]["headers"]["Content-Type"] == "text/plain"


def test_a_retry_does_not_upload_again_what_an_earlier_try_uploaded(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    store = FakeStateStore()
    storage.issue()  # invoice.pdf: stored
    storage.issue(put_status=403)  # notes.md: the storage host refuses (an expired signed URL)
    operator = RaiaPromptOperator(task_id="ask", prompt="Summarise", files=[docs / "invoice.pdf", docs / "notes.md"])

    with pytest.raises(RaiaStorageError) as refused:
        operator.execute(context(store))
    assert refused.value.status_code == 403
    assert refused.value.transient is False

    storage.issue()  # the second try asks a new URL for notes.md only
    mocked.post(UNIT_BASE_URL + "/prompts", json=COMPLETED)
    operator.execute(context(store))

    assert [body["fileName"] for body in raia_bodies(mocked, "/prompts/upload-url")] == [
        "invoice.pdf",
        "notes.md",
        "notes.md",
    ]
    assert raia_bodies(mocked, "/prompts")[0]["files"] == [
        {"fileName": "invoice.pdf", "storagePath": "prompt-files/t1"},
        {"fileName": "notes.md", "storagePath": "prompt-files/t3"},
    ]


def test_a_changed_file_is_uploaded_again_on_a_retry(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    store = FakeStateStore()
    storage.issue()
    mocked.post(UNIT_BASE_URL + "/prompts", json={**COMPLETED, "status": "failed", "error": "busy"})
    operator = RaiaPromptOperator(task_id="ask", prompt="Summarise", files=docs / "notes.md")
    with pytest.raises(Exception, match="busy"):
        operator.execute(context(store))

    (docs / "notes.md").write_text("# Notes\nedited, and longer than before\n", encoding="utf-8")
    storage.issue()
    mocked.post(UNIT_BASE_URL + "/prompts", json=COMPLETED)
    operator.execute(context(store))

    assert len(storage.puts) == 2
    assert storage.puts[1]["data"] == (docs / "notes.md").read_bytes()


def test_file_names_ending_like_templates_are_attached_not_read(tmp_path: Path, docs: Path) -> None:
    from airflow.sdk import DAG

    (tmp_path / "question.md").write_text("Summarise {{ params.who }}'s notes", encoding="utf-8")
    with DAG("attach", schedule=None, template_searchpath=[str(tmp_path)], params={"who": "Ada"}):
        operator = RaiaPromptOperator(task_id="ask", prompt="question.md", files=["{{ params.folder }}/notes.md"])

    operator.resolve_template_files()
    operator.render_template_fields({"params": {"who": "Ada", "folder": str(docs)}})  # type: ignore[arg-type]

    assert operator.prompt == "Summarise Ada's notes"
    assert operator.files == [f"{docs}/notes.md"]
    assert operator.template_ext == (".txt", ".md", ".j2")  # the prompt's file templates still work afterwards


def test_a_message_uploads_through_its_conversation_then_names_the_files(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue("/conversations/c-1/message-files/upload-url")
    mocked.post(
        UNIT_BASE_URL + "/conversations/c-1/messages",
        status=201,
        json={**ANSWER_MESSAGE, "message": "Got the invoice."},
    )
    operator = RaiaSendMessageOperator(
        task_id="send", conversation_id="c-1", message="Here it is", files=docs / "invoice.pdf"
    )

    result = operator.execute(context())

    assert result["response"] == "Got the invoice."
    assert storage.puts[0]["data"] == (docs / "invoice.pdf").read_bytes()
    assert raia_bodies(mocked, "/conversations/c-1/messages")[0]["files"] == [
        {"fileName": "invoice.pdf", "storagePath": "prompt-files/t1"}
    ]


class _Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_a_storage_fault_is_retried_with_the_hook_policy(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    sleeps = _Sleeps()
    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=3, initial_wait=1.0, jitter=0.0), sleep=sleeps)
    mocked.post(
        UNIT_BASE_URL + "/prompts/upload-url",
        json={"signedUrl": f"{STORAGE}/bucket/t1?{SIGNATURE}", "storagePath": "prompt-files/t1"},
    )
    mocked.put(f"{STORAGE}/bucket/t1", status=503)
    mocked.put(f"{STORAGE}/bucket/t1", status=200)

    uploaded = hook.upload_prompt_file(docs / "invoice.pdf")

    assert uploaded.storage_path == "prompt-files/t1"
    assert sleeps.waits == [1.0]
    assert [call.request.method for call in mocked.calls] == ["POST", "PUT", "PUT"]


def test_a_refusal_names_the_storage_host_but_never_the_signature(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue(put_status=403)
    with pytest.raises(RaiaStorageError) as refused:
        RaiaHook(sleep=_Sleeps()).upload_prompt_file(docs / "invoice.pdf")

    message = str(refused.value)
    assert "https://storage.example.test" in message
    assert "HTTP 403" in message
    assert "AccessDenied" in message
    assert SIGNATURE not in message
    assert TEST_KEY not in message
    assert len(storage.puts) == 1  # a refusal is not retried


def test_a_redirect_from_the_storage_host_is_not_followed(mocked: responses.RequestsMock, docs: Path) -> None:
    mocked.post(
        UNIT_BASE_URL + "/prompts/upload-url",
        json={"signedUrl": f"{STORAGE}/bucket/t1?{SIGNATURE}", "storagePath": "prompt-files/t1"},
    )
    mocked.put(f"{STORAGE}/bucket/t1", status=307, headers={"Location": "https://elsewhere.test/put"})

    with pytest.raises(RaiaStorageError, match="redirect, which is never followed"):
        RaiaHook(sleep=_Sleeps()).upload_prompt_file(docs / "invoice.pdf")


def test_an_unusable_signed_url_is_refused_without_a_put(mocked: responses.RequestsMock, docs: Path) -> None:
    mocked.post(UNIT_BASE_URL + "/prompts/upload-url", json={"signedUrl": "/relative/t1", "storagePath": "p/t1"})

    with pytest.raises(RaiaStorageError, match="not an absolute http"):
        RaiaHook(sleep=_Sleeps()).upload_prompt_file(docs / "invoice.pdf")
    assert len(mocked.calls) == 1


def test_a_deferrable_message_submits_with_its_files_and_defers(
    mocked: responses.RequestsMock, storage: Storage, docs: Path
) -> None:
    storage.issue("/conversations/c-1/message-files/upload-url")
    mocked.post(UNIT_BASE_URL + "/conversations/c-1/messages/async", status=201, json=QUESTION_MESSAGE)
    operator = RaiaSendMessageOperator(
        task_id="send", conversation_id="c-1", message="Here it is", files=[docs / "invoice.pdf"], deferrable=True
    )

    with pytest.raises(TaskDeferred):
        operator.execute(context())

    assert raia_bodies(mocked, "/conversations/c-1/messages/async")[0]["files"] == [
        {"fileName": "invoice.pdf", "storagePath": "prompt-files/t1"}
    ]
    assert storage.puts[0]["data"] == (docs / "invoice.pdf").read_bytes()
