"""RaiaHook's blocking half, mocked at the HTTP layer with ``responses``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import (
    RaiaAuthError,
    RaiaBadRequestError,
    RaiaInputError,
    RaiaMalformedResponseError,
    RaiaNotFoundError,
    RaiaRateLimitError,
    RaiaResponseError,
    RaiaServerError,
    RaiaTimeoutError,
)
from raia_provider.hooks.raia import RaiaHook
from raia_provider.models.prompts import PromptFile
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.payloads import AGENT_PROFILE, COMPLETED, FORBIDDEN, NOT_FOUND, PENDING, SERVER_ERROR

pytestmark = pytest.mark.usefixtures("unit_connection")


class SleepRecorder:
    """Stands in for ``time.sleep``: records each wait instead of waiting (an injected clock)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def hook(sleeps: SleepRecorder) -> RaiaHook:
    policy = RetryPolicy(max_attempts=4, initial_wait=1.0, max_wait=8.0, jitter=0.5, random=lambda: 1.0)
    return RaiaHook(retry_policy=policy, sleep=sleeps)


@pytest.fixture
def mocked() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def url(path: str) -> str:
    return UNIT_BASE_URL + path


# -- request shape and parsing, per operation ---------------------------------------------------------


def test_process_prompt_sends_body_headers_and_timeouts(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(
        url("/prompts"),
        json=COMPLETED,
        match=[
            matchers.json_params_matcher({"prompt": "Hi?", "tokenTrackingId": "batch-7"}, strict_match=True),
            matchers.header_matcher({"Agent-Secret-Key": TEST_KEY, "Accept": "application/json"}),
            matchers.request_kwargs_matcher({"timeout": (10.0, 120.0)}),
        ],
    )
    result = hook.process_prompt(prompt="Hi?", token_tracking_id="batch-7")
    assert (result.status, result.response, result.total_tokens, result.error) == ("completed", "42", 12, None)
    user_agent = mocked.calls[0].request.headers["User-Agent"]
    assert user_agent.startswith("airflow-provider-raia/0.1.0 apache-airflow/3.")


def test_prompt_files_are_sent_with_raia_field_names(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/prompts/async"), json={"promptId": "p-1"})
    job = hook.create_prompt(prompt="Describe", files=[PromptFile(file_name="a.png", storage_path="s/a.png")])
    assert job.prompt_id == "p-1"
    assert json.loads(mocked.calls[0].request.body) == {
        "prompt": "Describe",
        "files": [{"fileName": "a.png", "storagePath": "s/a.png"}],
    }


def test_legacy_prompt_body_without_status_reads_as_completed(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/prompts"), json={"totalTokens": 5, "response": "old style"})
    result = hook.process_prompt(prompt="x")
    assert (result.status, result.response, result.error) == ("completed", "old style", None)


def test_unknown_response_fields_are_kept(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/prompts"), json={**COMPLETED, "model": "gpt-5"})
    assert hook.process_prompt(prompt="x").to_json_dict()["model"] == "gpt-5"


@pytest.mark.parametrize(("body", "expected"), [(None, None), (PENDING, "pending"), (COMPLETED, "completed")])
def test_get_prompt_response_reads_null_pending_and_completed(
    hook: RaiaHook, mocked: Any, body: Any, expected: str | None
) -> None:
    mocked.get(url("/prompts/p%2F1/response-on"), body=json.dumps(body), content_type="application/json")
    result = hook.get_prompt_response(prompt_id="p/1")
    assert (result.status if result else None) == expected


def test_prompt_upload_url(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(
        url("/prompts/upload-url"),
        json={"signedUrl": "https://storage.test/put?sig=1", "storagePath": "prompt-files/a.png"},
        match=[matchers.json_params_matcher({"fileName": "a.png", "contentType": "image/png"})],
    )
    signed = hook.create_prompt_upload_url(file_name="a.png", content_type="image/png")
    assert (signed.signed_url, signed.storage_path) == ("https://storage.test/put?sig=1", "prompt-files/a.png")


def test_agent_profile_redacts_the_api_skill_key(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/agents/by-api-key"), json=AGENT_PROFILE)
    agent = hook.get_agent()
    assert agent.name == "Support Agent"
    assert agent.skill("API") is not None
    assert TEST_KEY not in json.dumps(agent.to_json_dict())
    assert TEST_KEY not in repr(agent)
    assert agent.skill("API").to_json_dict()["apiKey"] == "***"  # type: ignore[union-attr]
    assert agent.skill("WEBHOOK").webhooks[0].trigger_condition == "end_dialog"  # type: ignore[union-attr,index]


def test_missing_required_response_field_is_a_clear_contract_error(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/prompts/async"), json={"id": "wrong-field"})
    with pytest.raises(RaiaResponseError, match=r"promptId: Field required"):
        hook.create_prompt(prompt="x")
    assert len(mocked.calls) == 1  # a contract mismatch is not retried


def test_one_session_is_reused_for_keep_alive(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/prompts"), json=COMPLETED)
    hook.process_prompt(prompt="a")
    session = hook.get_conn()._session
    hook.process_prompt(prompt="b")
    assert hook.get_conn()._session is session


# -- bad input fails before any request ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda h: h.process_prompt(prompt="   "), "argument 'prompt' must contain text"),
        (lambda h: h.process_prompt(prompt=7), "argument 'prompt' Input should be a valid string"),
        (lambda h: h.process_prompt(), "argument 'prompt' is required"),
        (lambda h: h.process_prompt(prompt="x", token_tracking_id=""), "'token_tracking_id' must be omitted"),
        (lambda h: h.process_prompt(prompt="x", tokens=3), "argument 'tokens' is not a parameter"),
        (lambda h: h.get_prompt_response(prompt_id=""), "argument 'prompt_id'"),
        (lambda h: h.get_prompt_response(prompt_id="  "), "argument 'prompt_id'"),
        (lambda h: h.create_prompt_upload_url(file_name="a", content_type="png"), "'content_type'"),
        (lambda h: h.process_prompt("positional"), "keyword arguments only"),
    ],
)
def test_bad_arguments_raise_before_any_request(hook: RaiaHook, mocked: Any, call: Any, expected: str) -> None:
    with pytest.raises((RaiaInputError, TypeError), match=expected):
        call(hook)
    assert len(mocked.calls) == 0


def test_bad_connection_raises_before_any_request(set_connection: Any, mocked: Any) -> None:
    set_connection(region="mars")
    with pytest.raises(ValueError, match="'region' is 'mars'"):
        RaiaHook().process_prompt(prompt="x")
    assert len(mocked.calls) == 0


# -- error mapping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error_type", "fragment"),
    [
        (403, FORBIDDEN, RaiaAuthError, "HTTP 403 (FORBIDDEN_ERROR INVALID_CREDENTIALS)"),
        (401, {"message": "Unauthorized"}, RaiaAuthError, "refused the Agent Secret Key"),
        (404, NOT_FOUND, RaiaNotFoundError, "ENTITY_NOT_FOUND_ERROR ENTITY_NOT_FOUND"),
        (
            400,
            {"status": 400, "name": "BAD_REQUEST", "message": "INVALID_REQUEST", "details": [{"property": "prompt"}]},
            RaiaBadRequestError,
            'details: [{"property": "prompt"}]',
        ),
        (422, {"message": "Unprocessable"}, RaiaBadRequestError, "HTTP 422"),
    ],
)
def test_permanent_errors_fail_fast_with_raias_message(
    hook: RaiaHook, mocked: Any, sleeps: SleepRecorder, status: int, body: Any, error_type: type, fragment: str
) -> None:
    mocked.post(url("/prompts"), status=status, json=body)
    with pytest.raises(error_type) as info:
        hook.process_prompt(prompt="x")
    assert fragment in str(info.value)
    assert info.value.status_code == status
    assert (len(mocked.calls), sleeps.waits) == (1, [])


def test_server_echoing_the_key_is_redacted(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/prompts"), status=403, json={**FORBIDDEN, "message": f"bad key {TEST_KEY}"})
    with pytest.raises(RaiaAuthError) as info:
        hook.process_prompt(prompt="x")
    assert TEST_KEY not in str(info.value)
    assert TEST_KEY not in (info.value.error_message or "")
    assert "bad key ***" in str(info.value)


# -- retries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_with_exponential_backoff_then_succeeds(
    hook: RaiaHook, mocked: Any, sleeps: SleepRecorder, status: int
) -> None:
    mocked.post(url("/prompts"), status=status, json=SERVER_ERROR)
    mocked.post(url("/prompts"), status=status, body="<html><body>Bad gateway</body></html>")
    mocked.post(url("/prompts"), json=COMPLETED)
    assert hook.process_prompt(prompt="x").response == "42"
    assert len(mocked.calls) == 3
    assert sleeps.waits == [1.5, 2.5]  # 1*2^0 + jitter 0.5, 1*2^1 + 0.5


def test_retries_are_bounded_then_the_last_error_is_raised(hook: RaiaHook, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/prompts"), status=503, body="<html>Service Unavailable</html>")
    with pytest.raises(RaiaServerError, match="non-JSON body '<html>Service Unavailable</html>'"):
        hook.process_prompt(prompt="x")
    assert len(mocked.calls) == 4
    assert sleeps.waits == [1.5, 2.5, 4.5]


def test_backoff_is_capped_at_max_wait(unit_connection: str, mocked: Any, sleeps: SleepRecorder) -> None:
    policy = RetryPolicy(max_attempts=6, initial_wait=1.0, max_wait=3.0, jitter=0.0)
    mocked.post(url("/prompts"), status=500, json=SERVER_ERROR)
    with pytest.raises(RaiaServerError):
        RaiaHook(retry_policy=policy, sleep=sleeps).process_prompt(prompt="x")
    assert sleeps.waits == [1.0, 2.0, 3.0, 3.0, 3.0]


@pytest.mark.parametrize(("header", "expected_wait"), [("7", 7.0), ("0", 0.0), ("86400", 120.0)])
def test_429_honours_retry_after_capped(
    hook: RaiaHook, mocked: Any, sleeps: SleepRecorder, header: str, expected_wait: float
) -> None:
    mocked.post(url("/prompts"), status=429, json={"statusCode": 429}, headers={"Retry-After": header})
    mocked.post(url("/prompts"), json=COMPLETED)
    assert hook.process_prompt(prompt="x").status == "completed"
    assert sleeps.waits == [expected_wait]


def test_429_http_date_retry_after(hook: RaiaHook, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/prompts"), status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    mocked.post(url("/prompts"), json=COMPLETED)
    hook.process_prompt(prompt="x")
    assert sleeps.waits == [0.0]  # a date in the past means "now"


def test_429_without_retry_after_falls_back_to_backoff(hook: RaiaHook, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/prompts"), status=429, body="")
    with pytest.raises(RaiaRateLimitError, match="no Retry-After given") as info:
        hook.process_prompt(prompt="x")
    assert info.value.retry_after is None
    assert sleeps.waits == [1.5, 2.5, 4.5]


def test_connection_errors_are_retried(hook: RaiaHook, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/prompts"), body=requests.ConnectionError("Connection refused"))
    mocked.post(url("/prompts"), json=COMPLETED)
    assert hook.process_prompt(prompt="x").status == "completed"
    assert len(sleeps.waits) == 1


def test_timeouts_are_retried_then_raised(hook: RaiaHook, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/prompts"), body=requests.ReadTimeout("Read timed out"))
    with pytest.raises(RaiaTimeoutError, match=r"timed out \(ReadTimeout: Read timed out; connect 10 s, read 120 s\)"):
        hook.process_prompt(prompt="x")
    assert len(mocked.calls) == 4


def test_malformed_json_is_retried(hook: RaiaHook, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/prompts"), body='{"status": "compl', content_type="application/json")
    mocked.post(url("/prompts"), json=COMPLETED)
    assert hook.process_prompt(prompt="x").status == "completed"
    assert len(mocked.calls) == 2


def test_malformed_json_error_text(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/prompts"), body="{oops", content_type="application/json")
    with pytest.raises(RaiaMalformedResponseError, match="not valid JSON"):
        hook.process_prompt(prompt="x")


def test_retry_disabled_with_one_attempt(unit_connection: str, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/prompts"), status=503, json=SERVER_ERROR)
    with pytest.raises(RaiaServerError):
        RaiaHook(retry_policy=RetryPolicy(max_attempts=1), sleep=sleeps).process_prompt(prompt="x")
    assert (len(mocked.calls), sleeps.waits) == (1, [])


def test_retry_log_lines_name_the_operation_not_the_key(
    hook: RaiaHook, mocked: Any, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.post(url("/prompts"), status=403, json=FORBIDDEN)
    mocked.post(url("/prompts/async"), status=500, json={**SERVER_ERROR, "message": TEST_KEY})
    mocked.post(url("/prompts/async"), json={"promptId": "p"})
    with caplog.at_level("DEBUG"):
        hook.create_prompt(prompt="x")
    assert "raia POST /prompts/async failed (attempt 1 of 4)" in caplog.text
    assert TEST_KEY not in caplog.text


# -- connection test ----------------------------------------------------------------------------------


def test_test_connection_names_the_agent(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/agents/by-api-key"), json=AGENT_PROFILE)
    ok, message = hook.test_connection()
    assert ok
    assert "Connected to raia agent 'Support Agent'" in message
    assert UNIT_BASE_URL in message


def test_test_connection_reports_a_refused_key(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/agents/by-api-key"), status=403, json=FORBIDDEN)
    ok, message = hook.test_connection()
    assert not ok
    assert "refused the Agent Secret Key" in message
    assert TEST_KEY not in message


def test_test_connection_reports_a_bad_connection(set_connection: Any) -> None:
    set_connection(key="")
    ok, message = RaiaHook().test_connection()
    assert (ok, "password field) is empty" in message) == (False, True)


# -- the low-level request method ---------------------------------------------------------------------


def test_request_sends_any_operation_with_a_chosen_auth_header(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(
        url("/agent-roles/by-api-key"),
        json=[{"id": "r1", "name": "Support"}],
        match=[
            matchers.header_matcher({"Organization-Secret-Key": TEST_KEY}),
            matchers.query_param_matcher({"page": "2"}),
        ],
    )
    roles = hook.request("get", "/agent-roles/by-api-key", params={"page": 2}, auth_header="Organization-Secret-Key")
    assert roles == [{"id": "r1", "name": "Support"}]
    assert "Agent-Secret-Key" not in mocked.calls[0].request.headers


def test_request_shares_retries_and_error_mapping(hook: RaiaHook, mocked: Any, sleeps: SleepRecorder) -> None:
    mocked.post(url("/organizations"), status=503, json=SERVER_ERROR)
    mocked.post(url("/organizations"), status=403, json=FORBIDDEN)
    with pytest.raises(RaiaAuthError, match=r"raia answered POST /organizations with HTTP 403"):
        hook.request("POST", "/organizations", json={"name": "Acme"}, auth_header="Super-Admin-Secret-Key")
    assert len(sleeps.waits) == 1
    assert json.loads(mocked.calls[0].request.body) == {"name": "Acme"}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"method": "PATCH", "path": "/x"}, "argument 'method' must be GET, POST, PUT or DELETE"),
        ({"method": "GET", "path": "agents"}, "argument 'path' must be a path below the base URL"),
        ({"method": "GET", "path": "https://evil.example/x"}, "argument 'path'"),
        ({"method": "GET", "path": "/x", "auth_header": "Bad Header:"}, "argument 'auth_header'"),
    ],
)
def test_request_validates_before_sending(
    hook: RaiaHook, mocked: Any, arguments: dict[str, Any], expected: str
) -> None:
    with pytest.raises(RaiaInputError, match=expected):
        hook.request(**arguments)
    assert len(mocked.calls) == 0
