"""Fault injection, observed from a real ``requests`` (and ``aiohttp``) client."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import aiohttp
import pytest
import requests

from raia_provider.testing.emulator.client import EmulatorClient
from raia_provider.testing.emulator.faults import Fault
from raia_provider.testing.emulator.matching import RequestMatcher
from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

PROMPTS = "/external/prompts"


def _fresh_session_post(api: Api, text: str = "Hi", timeout: float = 5) -> requests.Response:
    # A new connection each time, so a dropped connection cannot leak into the next call.
    with requests.Session() as session:
        return session.post(
            f"{api.base_url}/prompts", json={"prompt": text}, headers={"Agent-Secret-Key": api.key}, timeout=timeout
        )


def test_status_fault_answers_raia_body_for_the_code(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="status", method="POST", path=PROMPTS, status=503, count=2, retry_after=7)

    first, second, third = (api.prompt("Hi") for _ in range(3))

    assert first.status_code == second.status_code == 503
    assert first.json() == {"status": 503, "message": "Service Unavailable"}
    assert first.headers["Retry-After"] == "7"
    assert third.status_code == 200
    assert raia_emulator.faults() == []


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"status": 500, "message": "Internal Server Error"}),
        (403, {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}),
        (404, {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "ENTITY_NOT_FOUND", "details": []}),
        (429, {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}),
    ],
)
def test_status_fault_bodies(raia_emulator: RaiaEmulator, api: Api, status: int, body: dict[str, object]) -> None:
    raia_emulator.inject_fault(kind="status", status=status)

    response = api.prompt("Hi")

    assert (response.status_code, response.json()) == (status, body)


def test_429_fault_can_omit_retry_after(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="status", status=429, retry_after=None)

    response = api.prompt("Hi")

    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_status_fault_does_not_run_the_request(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="status", status=502, path="/external/prompts/async")

    api.call("POST", "/prompts/async", json={"prompt": "Hi"})

    assert raia_emulator.prompts() == []


def test_reset_closes_the_connection_without_a_response(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="reset", method="POST", path=PROMPTS)

    with pytest.raises(requests.ConnectionError) as caught:
        _fresh_session_post(api)

    # A connection error, not an HTTP answer (a 500 would raise nothing).
    assert not isinstance(caught.value, requests.HTTPError)
    assert _fresh_session_post(api).status_code == 200
    assert [(r.status, r.fault) for r in raia_emulator.requests()] == [(None, "reset"), (200, None)]


def test_reset_on_a_kept_alive_connection(raia_emulator: RaiaEmulator, api: Api) -> None:
    assert api.prompt("warm up").status_code == 200  # opens the pooled connection
    raia_emulator.inject_fault(kind="reset")

    with pytest.raises(requests.ConnectionError):
        api.prompt("Hi")
    assert api.prompt("again").status_code == 200


async def test_reset_is_seen_by_aiohttp_too(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="reset")

    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.post(
                f"{api.base_url}/prompts", json={"prompt": "Hi"}, headers={"Agent-Secret-Key": api.key}
            ) as response:
                await response.read()


def test_reset_mid_response_cuts_the_body_short(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="reset_mid_response", path="/external/prompts/async")

    with (
        requests.Session() as session,
        pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"),
    ):
        session.post(
            f"{api.base_url}/prompts/async", json={"prompt": "Hi"}, headers={"Agent-Secret-Key": api.key}, timeout=5
        )

    # The request was processed: the response was lost, not the prompt.
    assert len(raia_emulator.prompts()) == 1
    assert raia_emulator.requests()[0].status == 200


def test_reset_mid_response_sends_headers_with_full_length(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="reset_mid_response")

    with requests.Session() as session:
        response = session.get(
            f"{api.base_url}/agents/by-api-key", headers={"Agent-Secret-Key": api.key}, stream=True, timeout=5
        )
        assert response.status_code == 200
        expected = int(response.headers["Content-Length"])
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            response.content  # noqa: B018 - reading the body is the point
    assert expected > 0


def test_slow_fault_triggers_a_read_timeout_then_answers(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="slow", delay=1.0, path=PROMPTS)

    with pytest.raises(requests.exceptions.ReadTimeout):
        _fresh_session_post(api, timeout=0.3)

    assert _fresh_session_post(api).status_code == 200
    # The slow request was logged on arrival, before the one sent after it.
    assert [r.fault for r in raia_emulator.requests()] == ["slow", None]


def test_slow_fault_still_answers_a_patient_client(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="slow", delay=0.3)

    response = _fresh_session_post(api, timeout=5)

    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


def test_malformed_json_fault(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="malformed_json")

    response = api.prompt("Hi")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


@pytest.mark.parametrize(("status", "expected"), [(None, 502), (504, 504)])
def test_html_fault(raia_emulator: RaiaEmulator, api: Api, status: int | None, expected: int) -> None:
    raia_emulator.inject_fault(kind="html", status=status)

    response = api.prompt("Hi")

    assert response.status_code == expected
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<title>{expected} " in response.text


def test_faults_are_consumed_in_order(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="status", status=500, count=1)
    raia_emulator.inject_fault(kind="status", status=503, count=2)

    statuses = [api.prompt("Hi").status_code for _ in range(4)]

    assert statuses == [500, 503, 503, 200]


def test_a_fault_after_n_requests_hits_the_middle_of_a_sequence(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="status", status=503, method="POST", path=PROMPTS, after=2, count=2)
    assert api.call("GET", "/agents/by-api-key").status_code == 200  # not matched: does not count

    statuses = [api.prompt("Hi").status_code for _ in range(5)]

    assert statuses == [200, 200, 503, 503, 200]
    assert raia_emulator.faults() == []


def test_a_fault_after_n_requests_over_the_control_api(raia_emulator: RaiaEmulator, api: Api) -> None:
    EmulatorClient(raia_emulator.url).inject_fault(kind="status", status=500, method="POST", path=PROMPTS, after=1)

    assert [api.prompt("Hi").status_code for _ in range(3)] == [200, 500, 200]


def test_faults_match_method_and_path_template(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="status", status=500, method="GET", path="/external/prompts/{id}/response-on")
    raia_emulator.configure(prompt_delay=0)
    prompt_id = api.create("Hi")  # POST: not matched

    assert api.call("GET", "/agents/by-api-key").status_code == 200  # other path: not matched
    assert api.poll(prompt_id).status_code == 500
    assert api.poll(prompt_id).status_code == 200


def test_fault_list_shows_remaining_counts_and_clear_drops_them(raia_emulator: RaiaEmulator, api: Api) -> None:
    fault = raia_emulator.inject_fault(kind="status", status=500, path="/external/prompts*", count=3)
    api.call("POST", "/prompts/async", json={"prompt": "Hi"})

    assert [(f.id, f.count) for f in raia_emulator.faults()] == [(fault.id, 2)]
    raia_emulator.clear_faults()
    assert raia_emulator.faults() == []
    assert api.prompt("Hi").status_code == 200


def test_faults_apply_before_auth_and_routing(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.inject_fault(kind="status", status=503, count=2)

    assert api.call("GET", "/unknown", key=None).status_code == 503
    assert api.prompt("Hi", key="wrong").status_code == 503


def test_control_api_is_never_faulted(raia_emulator: RaiaEmulator) -> None:
    raia_emulator.inject_fault(kind="reset")

    assert requests.get(f"{raia_emulator.url}/_emulator/health", timeout=5).status_code == 200
    assert len(raia_emulator.faults()) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "explode"},
        {"kind": "status"},
        {"kind": "status", "status": 99},
        {"kind": "status", "status": 503, "count": 0},
        {"kind": "status", "status": 503, "retry_after": -1},
        {"kind": "status", "status": 503, "after": -1},
    ],
)
def test_invalid_faults_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - messages differ per field
        Fault(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*", "/external/anything", True),
        ("/external/prompts", "/external/prompts", True),
        ("/external/prompts", "/external/prompts/async", False),
        ("/external/prompts*", "/external/prompts/async", True),
        ("/external/prompts/{id}/response-on", "/external/prompts/abc-1/response-on", True),
        ("/external/prompts/{id}/response-on", "/external/prompts/a/b/response-on", False),
        ("/external/prompts/{id}/response-on", "/external/prompts//response-on", False),
        ("/external/a.b", "/external/aXb", False),
    ],
)
def test_path_patterns(pattern: str, path: str, matches: bool) -> None:
    assert RequestMatcher("*", pattern).matches("GET", path) is matches
