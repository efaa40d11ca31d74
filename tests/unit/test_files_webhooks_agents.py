"""Agent files, webhooks, agent statistics/limits and resource usage, at the HTTP layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import RaiaInputError
from raia_provider.hooks.raia import RaiaHook
from tests.aiohttp_mock import Reply, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.test_multipart import parse_form

pytestmark = pytest.mark.usefixtures("unit_connection")

AGENT_FILE = {
    "id": "f-1",
    "fileName": "faq.md",
    "url": "https://files.raia.test/f-1",
    "createdAt": "2026-11-01T10:00:00.000Z",
    "vectorStoreFileId": "file-abc",
    "isUploadedToVectorStore": True,
    "vectorStoreUploadStatus": "processing",
    "uploadedToVectorStoreAt": None,
}
WEBHOOK = {
    "id": "w-1",
    "agentId": "a-1",
    "title": "CRM",
    "description": "sync conversations",
    "url": "https://crm.example.com/raia",
    "triggerCondition": "end_dialog",
    "headers": {"Authorization": "Bearer x"},
    "status": "active",
    "createdAt": "2026-11-01T10:00:00.000Z",
    "updatedAt": "2026-11-01T10:00:00.000Z",
}
LIMITS = {
    "id": "l-1",
    "agentId": "a-1",
    "isOrganizationDefault": False,
    "tokensAmountPerMonth": 1_000_000,
    "smsAmountPerMonth": 100,
    "emailsAmountPerMonth": 50,
    "secondsAmountPerMonth": 3600,
}


@pytest.fixture
def hook() -> RaiaHook:
    return RaiaHook(retry_policy=RetryPolicy(max_attempts=2, initial_wait=0, jitter=0), sleep=lambda _: None)


@pytest.fixture
def mocked() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def url(path: str) -> str:
    return UNIT_BASE_URL + path


def body_bytes(request: Any) -> bytes:
    # responses drains a streamed body before calling back; requests itself hands the reader to the socket.
    return request.body if isinstance(request.body, bytes) else request.body.read()


def test_requests_keeps_the_upload_as_a_stream(tmp_path: Path) -> None:
    import requests

    from raia_provider.operations.files import UploadAgentFile

    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    multipart = UploadAgentFile.build(file=tmp_path / "a.bin").prepare().multipart
    assert multipart is not None
    prepared = requests.Request("POST", "http://h/x", data=multipart.reader(), headers=multipart.headers()).prepare()
    assert hasattr(prepared.body, "read")  # not encoded into one bytes object in memory
    assert prepared.headers["Content-Length"] == str(len(multipart))
    assert "Transfer-Encoding" not in prepared.headers


# -- files --------------------------------------------------------------------------------------------


def test_upload_streams_a_multipart_form(hook: RaiaHook, mocked: Any, tmp_path: Path) -> None:
    source = tmp_path / "faq.md"
    source.write_bytes(b"# FAQ\n" * 1000)
    seen: dict[str, Any] = {}

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        seen["headers"] = dict(request.headers)
        seen["body"] = body_bytes(request)
        return 200, {}, json.dumps(AGENT_FILE)

    mocked.add_callback(responses.POST, url("/agent-files/upload"), callback=answer)
    uploaded = hook.upload_agent_file(file=source, auto_add_to_vector_store=True)
    assert (uploaded.id, uploaded.vector_store_upload_status) == ("f-1", "processing")
    assert seen["headers"]["Agent-Secret-Key"] == TEST_KEY
    assert seen["headers"]["Content-Length"] == str(len(seen["body"]))
    form = parse_form(seen["body"], seen["headers"]["Content-Type"])
    assert form == {"autoAddToVectorStore": (None, b"true"), "file": ("faq.md", b"# FAQ\n" * 1000)}


def test_upload_without_auto_add_sends_only_the_file(hook: RaiaHook, mocked: Any, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    bodies: list[bytes] = []
    mocked.add_callback(
        responses.POST,
        url("/agent-files/upload"),
        callback=lambda r: (bodies.append(body_bytes(r)), (200, {}, json.dumps(AGENT_FILE)))[1],
    )
    hook.upload_agent_file(file=tmp_path / "a.txt")
    assert b"autoAddToVectorStore" not in bodies[0]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"file": "/nonexistent/report.pdf"}, "argument 'file' '/nonexistent/report.pdf' does not exist"),
        ({"file": "DIR"}, "is a directory"),
        ({"file": 7}, "must be a local path or an ObjectStoragePath"),
        ({}, "argument 'file' is required"),
    ],
)
def test_bad_upload_arguments_send_nothing(
    hook: RaiaHook, mocked: Any, tmp_path: Path, arguments: dict[str, Any], expected: str
) -> None:
    if arguments.get("file") == "DIR":
        arguments["file"] = tmp_path
    with pytest.raises(RaiaInputError, match=expected):
        hook.upload_agent_file(**arguments)
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, [AGENT_FILE, {**AGENT_FILE, "id": "f-2"}], ["f-1", "f-2"]),
        (200, AGENT_FILE, ["f-1"]),  # the spec's single-object shape
        (
            404,
            {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "Agent files not found.", "details": []},
            [],
        ),
    ],
)
def test_list_files_reads_array_object_and_404_as_a_list(
    hook: RaiaHook, mocked: Any, status: int, body: Any, expected: list[str]
) -> None:
    mocked.get(url("/agent-files/by-api-key"), status=status, json=body)
    assert [f.id for f in hook.list_agent_files()] == expected
    assert len(mocked.calls) == 1  # the 404 is an answer, not a failure to retry


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        (lambda h: h.add_file_to_vector_store(file_id="f/1"), "PUT", "/agent-files/f%2F1/add-to-vector-store"),
        (lambda h: h.add_file_to_vector_store_async(file_id="f1"), "PUT", "/agent-files/f1/add-to-vector-store/async"),
        (lambda h: h.remove_file_from_vector_store(file_id="f1"), "DELETE", "/agent-files/f1/delete-from-vector-store"),
        (lambda h: h.delete_agent_file(file_id="f1"), "DELETE", "/agent-files/f1/delete"),
    ],
)
@pytest.mark.parametrize("body", ["", "{}", "true"])
def test_no_content_operations_accept_any_success_body(
    hook: RaiaHook, mocked: Any, call: Any, method: str, path: str, body: str
) -> None:
    mocked.add(method, url(path), body=body, status=200)
    assert call(hook) is None
    assert mocked.calls[0].request.body is None or mocked.calls[0].request.body in (b"{}", "{}")


def test_delete_many_sends_a_json_body_on_delete(hook: RaiaHook, mocked: Any) -> None:
    mocked.delete(url("/agent-files"), match=[matchers.json_params_matcher({"fileIds": ["f1", "f2"]})])
    assert hook.delete_agent_files(file_ids=["f1", "f2"]) is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [({"file_ids": []}, "argument 'file_ids'"), ({"file_ids": ["f1", " "]}, "argument 'file_ids.1'")],
)
def test_delete_many_needs_ids(hook: RaiaHook, mocked: Any, arguments: dict[str, Any], expected: str) -> None:
    with pytest.raises(RaiaInputError, match=expected):
        hook.delete_agent_files(**arguments)
    assert len(mocked.calls) == 0


# -- webhooks -----------------------------------------------------------------------------------------


def test_create_webhook(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(
        url("/agents/webhooks"),
        status=201,
        json=WEBHOOK,
        match=[
            matchers.json_params_matcher(
                {
                    "title": "CRM",
                    "description": "sync conversations",
                    "url": "https://crm.example.com/raia",
                    "triggerCondition": "end_dialog",
                    "headers": {"Authorization": "Bearer x"},
                },
                strict_match=True,
            )
        ],
    )
    webhook = hook.create_webhook(
        title="CRM",
        description="sync conversations",
        url="https://crm.example.com/raia",
        trigger_condition="end_dialog",
        headers={"Authorization": "Bearer x"},
    )
    assert (webhook.id, webhook.status) == ("w-1", "active")


@pytest.mark.parametrize(
    ("url_", "expected"),
    [
        ("http://crm.example.com/hook", "must be an https:// URL"),
        ("ftp://crm.example.com/hook", "must be an https:// URL"),
        ("crm.example.com/hook", "must be an https:// URL"),
        ("https://localhost/hook", "'localhost' is a local name"),
        ("https://api.localhost/hook", "is a local name"),
        ("https://metadata.internal/hook", "is a local name"),
        ("https://127.0.0.1/hook", "127.0.0.1 is a private, loopback"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private"),
        ("https://192.168.0.10/hook", "is a private"),
        ("https://172.16.5.4/hook", "is a private"),
        ("https://169.254.169.254/latest/meta-data", "is a private, loopback, link-local"),
        ("https://[::1]/hook", "::1 is a private"),
        ("https://0.0.0.0/hook", "is a private"),
        ("https:///hook", "must name a host"),
    ],
)
def test_webhook_url_refused_before_any_request(hook: RaiaHook, mocked: Any, url_: str, expected: str) -> None:
    with pytest.raises(RaiaInputError, match=f"argument 'url' {'.*' if '(' in expected else ''}") as info:
        hook.create_webhook(title="t", description="d", url=url_, trigger_condition="manual")
    assert expected in str(info.value)
    assert len(mocked.calls) == 0


def test_webhook_trigger_condition_must_be_documented(hook: RaiaHook, mocked: Any) -> None:
    with pytest.raises(RaiaInputError, match=r"argument 'trigger_condition'.*'each_message'"):
        hook.create_webhook(title="t", description="d", url="https://a.example/h", trigger_condition="onMessageEnd")  # type: ignore[arg-type]
    assert len(mocked.calls) == 0


# -- agent statistics, usage, limits, resource usage --------------------------------------------------


def test_statistic_query_parameters(hook: RaiaHook, mocked: Any) -> None:
    import datetime as dt

    stats = dict.fromkeys(
        [
            "tokensUsed",
            "tokensPerConversation",
            "vapiSecondsUsed",
            "averageCallDuration",
            "smsUsed",
            "smsPerConversation",
            "emailsUsed",
            "emailsPerConversation",
        ],
        1.5,
    )
    mocked.get(
        url("/agents/statistic"),
        json=stats,
        match=[matchers.query_param_matcher({"startDate": "2026-11-01T00:00:00Z", "fkId": "crm-7"})],
    )
    result = hook.get_agent_statistic(start_date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), fk_id="crm-7")
    assert result.tokens_used == 1.5


def test_limits_life_cycle(hook: RaiaHook, mocked: Any) -> None:
    usage = {"emailsAmount": 1, "smsAmount": 2, "tokensAmount": 3, "secondsAmount": 4}
    mocked.get(url("/agents/limits"), json=usage)
    mocked.post(
        url("/agents/limits"),
        status=201,
        json=LIMITS,
        match=[
            matchers.json_params_matcher(
                {
                    "tokensAmountPerMonth": 1e6,
                    "smsAmountPerMonth": 100,
                    "emailsAmountPerMonth": 50,
                    "secondsAmountPerMonth": 3600,
                }
            )
        ],
    )
    mocked.put(
        url("/agents/limits"),
        json=LIMITS,
        match=[matchers.json_params_matcher({"smsAmountPerMonth": 10}, strict_match=True)],
    )
    mocked.delete(url("/agents/limits"), body="")
    assert hook.get_agent_usage().tokens_amount == 3
    created = hook.create_agent_limits(
        tokens_amount_per_month=1e6, sms_amount_per_month=100, emails_amount_per_month=50, seconds_amount_per_month=3600
    )
    assert created.is_organization_default is False
    assert hook.update_agent_limits(sms_amount_per_month=10).id == "l-1"
    assert hook.delete_agent_limits() is None


def test_negative_limit_is_refused(hook: RaiaHook, mocked: Any) -> None:
    with pytest.raises(
        RaiaInputError, match="argument 'sms_amount_per_month' Input should be greater than or equal to 0"
    ):
        hook.update_agent_limits(sms_amount_per_month=-1)
    assert len(mocked.calls) == 0


def test_record_resource_usage(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(
        url("/resource-usage"),
        status=201,
        body="",
        match=[matchers.json_params_matcher({"type": "VAPI_SECONDS", "amount": 12.5}, strict_match=True)],
    )
    assert hook.record_resource_usage(type="VAPI_SECONDS", amount=12.5) is None
    with pytest.raises(RaiaInputError, match="argument 'type'"):
        hook.record_resource_usage(type="GPU_HOURS", amount=1)  # type: ignore[arg-type]


# -- async twins --------------------------------------------------------------------------------------


async def test_async_upload_streams_the_same_form(hook: RaiaHook, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(b"\x00\x01" * 1_500_000)  # several 1 MiB chunks
    with mock_raia(UNIT_BASE_URL) as router:
        route = router.post("/agent-files/upload").respond(200, json=AGENT_FILE)
        uploaded = await hook.aupload_agent_file(file=source, auto_add_to_vector_store=False)
        await hook.aclose()
    request = route.calls[0].request
    assert uploaded.id == "f-1"
    form = parse_form(request.content, request.headers["Content-Type"])
    assert form["autoAddToVectorStore"] == (None, b"false")
    assert form["file"] == ("big.bin", b"\x00\x01" * 1_500_000)
    assert request.headers["Content-Length"] == str(len(request.content))


async def test_async_list_files_404_is_empty(hook: RaiaHook) -> None:
    with mock_raia(UNIT_BASE_URL) as router:
        router.get("/agent-files/by-api-key").mock(return_value=Reply(404, json={"message": "Agent files not found."}))
        assert await hook.alist_agent_files() == []
        await hook.aclose()
