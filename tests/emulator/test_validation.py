"""Bad request bodies get raia's 400 (class-validator details), never FastAPI's 422 nor a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

JSON = {"Content-Type": "application/json"}

# (id, endpoint, raw body or JSON value, content type, expected detail property)
PROMPT_CASES: list[tuple[str, Any, dict[str, str], str]] = [
    ("invalid JSON", b'{"prompt": "Hi"', JSON, "body"),
    ("empty body", b"", JSON, "body"),
    ("not UTF-8", b'{"prompt": "\xff\xfe"}', JSON, "body"),
    ("JSON array", [], {}, "body"),
    ("JSON string", "prompt", {}, "body"),
    ("JSON null", b"null", JSON, "body"),
    ("text/plain body", b'{"prompt": "Hi"}', {"Content-Type": "text/plain"}, "body"),
    ("missing prompt", {}, {}, "prompt"),
    ("prompt null", {"prompt": None}, {}, "prompt"),
    ("prompt number", {"prompt": 5}, {}, "prompt"),
    ("prompt object", {"prompt": {"text": "Hi"}}, {}, "prompt"),
    ("prompt empty", {"prompt": ""}, {}, "prompt"),
    ("prompt whitespace", {"prompt": " \t\n "}, {}, "prompt"),
    ("tokenTrackingId number", {"prompt": "Hi", "tokenTrackingId": 7}, {}, "tokenTrackingId"),
    ("tokenTrackingId list", {"prompt": "Hi", "tokenTrackingId": ["a"]}, {}, "tokenTrackingId"),
    ("files not an array", {"prompt": "Hi", "files": "a.png"}, {}, "files"),
    ("files item not an object", {"prompt": "Hi", "files": ["a.png"]}, {}, "files.0"),
    ("files item missing storagePath", {"prompt": "Hi", "files": [{"fileName": "a"}]}, {}, "files.0.storagePath"),
    ("files item missing fileName", {"prompt": "Hi", "files": [{"storagePath": "p"}]}, {}, "files.0.fileName"),
    (
        "files item fileName number",
        {"prompt": "Hi", "files": [{"fileName": 1, "storagePath": "p"}]},
        {},
        "files.0.fileName",
    ),
]

UPLOAD_CASES: list[tuple[str, Any, str]] = [
    ("missing contentType", {"fileName": "a.png"}, "contentType"),
    ("missing fileName", {"contentType": "image/png"}, "fileName"),
    ("blank fileName", {"fileName": " ", "contentType": "image/png"}, "fileName"),
    ("contentType number", {"fileName": "a.png", "contentType": 3}, "contentType"),
]


def _send(api: Api, path: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, bytes):
        return api.call("POST", path, data=body, headers=headers)
    return api.call("POST", path, json=body, headers=headers)


def _assert_bad_request(response: Any, prop: str, validate: Callable[[Any, str], None]) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400
    assert body["name"] == "BAD_REQUEST"
    assert body["message"] == "INVALID_REQUEST"
    assert prop in [item["property"] for item in body["details"]]
    for item in body["details"]:
        assert set(item) == {"property", "constraints"}
        assert item["constraints"]
        assert all(isinstance(message, str) for message in item["constraints"].values())
    validate(body, "BadRequestErrorDTO")


@pytest.mark.parametrize("path", ["/prompts", "/prompts/async"])
@pytest.mark.parametrize(
    ("body", "headers", "prop"), [case[1:] for case in PROMPT_CASES], ids=[c[0] for c in PROMPT_CASES]
)
def test_bad_prompt_body_is_400(
    api: Api, path: str, body: Any, headers: dict[str, str], prop: str, validate_against: Callable[[Any, str], None]
) -> None:
    _assert_bad_request(_send(api, path, body, headers), prop, validate_against)


@pytest.mark.parametrize(("body", "prop"), [case[1:] for case in UPLOAD_CASES], ids=[c[0] for c in UPLOAD_CASES])
def test_bad_upload_url_body_is_400(
    api: Api, body: Any, prop: str, validate_against: Callable[[Any, str], None]
) -> None:
    _assert_bad_request(_send(api, "/prompts/upload-url", body, {}), prop, validate_against)


def test_missing_prompt_reports_both_class_validator_rules(api: Api) -> None:
    response = api.call("POST", "/prompts", json={})

    assert response.json()["details"] == [
        {
            "property": "prompt",
            "constraints": {"isNotEmpty": "prompt should not be empty", "isString": "prompt must be a string"},
        }
    ]


def test_empty_prompt_detail_matches_the_documented_example(api: Api) -> None:
    response = api.call("POST", "/prompts", json={"prompt": ""})

    assert response.json() == {
        "status": 400,
        "name": "BAD_REQUEST",
        "message": "INVALID_REQUEST",
        "details": [{"property": "prompt", "constraints": {"isNotEmpty": "prompt should not be empty"}}],
    }


def test_bad_bodies_create_no_prompt(raia_emulator: RaiaEmulator, api: Api) -> None:
    for _, body, headers, _ in PROMPT_CASES:
        _send(api, "/prompts/async", body, headers)

    assert raia_emulator.prompts() == []


def test_unexpected_error_is_raia_500(raia_emulator: RaiaEmulator, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(raia_emulator.state, "create_prompt", explode)

    response = api.call("POST", "/prompts/async", json={"prompt": "Hi"})

    assert response.status_code == 500
    assert response.json() == {"status": 500, "message": "Internal Server Error"}
    assert raia_emulator.requests()[-1].status == 500


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/unknown"),
        ("GET", "/prompts"),  # wrong method: Express answers 404, not 405
        ("DELETE", "/prompts/async"),
        ("POST", "/agents/by-api-key"),
        ("GET", "/prompts/a/b/response-on"),
        ("GET", ""),
    ],
)
def test_unknown_route_is_nestjs_404(api: Api, method: str, path: str) -> None:
    response = api.call(method, path)

    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "message": f"Cannot {method} /external{path}",
        "error": "Not Found",
    }


def test_unknown_route_404_comes_before_auth(api: Api) -> None:
    assert api.call("GET", "/unknown", key=None).status_code == 404


def test_one_trailing_slash_is_ignored_like_express(api: Api) -> None:
    assert api.call("GET", "/agents/by-api-key/").status_code == 200
