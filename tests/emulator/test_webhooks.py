"""Webhooks: public HTTPS URLs only (no DNS lookups), and created webhooks show in the profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]
INVALID_URL = {
    "status": 400,
    "name": "BAD_REQUEST",
    "message": "Invalid webhook URL. The URL must use HTTPS and resolve only to public IP addresses.",
    "details": [],
}
BODY = {"title": "CRM sync", "description": "Push each message", "triggerCondition": "each_message"}
BAD_URLS = [
    "http://hooks.example.com/raia",  # not HTTPS
    "ftp://hooks.example.com/raia",
    "hooks.example.com/raia",  # no scheme
    "https://127.0.0.1/hook",  # loopback
    "https://127.1/hook",  # loopback, short form
    "https://2130706433/hook",  # loopback, decimal form
    "https://10.0.0.8/hook",  # private
    "https://192.168.1.20/hook",
    "https://172.16.5.4/hook",
    "https://169.254.169.254/latest/meta-data",  # link-local metadata service
    "https://100.64.0.1/hook",  # shared (carrier-grade NAT)
    "https://0.0.0.0/hook",  # unspecified
    "https://224.0.0.251/hook",  # multicast
    "https://240.0.0.1/hook",  # reserved
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://metadata.google.internal/computeMetadata",
    "https://intranet/hook",  # single label
    "https:///hook",  # no host
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_non_public_or_non_https_url_is_refused(raia_emulator: RaiaEmulator, api: Api, url: str) -> None:
    response = api.call("POST", "/agents/webhooks", json={**BODY, "url": url})

    assert response.status_code == 400
    assert response.json() == INVALID_URL
    assert raia_emulator.webhooks() == []


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/raia?token=1", "https://8.8.8.8/hook", "https://[2001:4860:4860::8888]:8443/x"]
)
def test_public_https_url_is_created_and_shown_in_the_profile(
    raia_emulator: RaiaEmulator, api: Api, url: str, validate_against: Validate
) -> None:
    body = {**BODY, "url": url, "headers": {"Authorization": "Bearer t"}}

    response = api.call("POST", "/agents/webhooks", json=body)

    assert response.status_code == 201
    webhook = response.json()
    validate_against(webhook, "CreateAgentWebhookResponseDTO")
    assert webhook["agentId"] == raia_emulator.default_agent.id
    assert (webhook["url"], webhook["status"], webhook["headers"]) == (url, "active", {"Authorization": "Bearer t"})
    skills = {s["systemName"]: s for s in api.call("GET", "/agents/by-api-key").json()["skills"]}
    assert skills["WEBHOOK"]["webhooks"] == [
        {
            "status": "active",
            "title": "CRM sync",
            "description": "Push each message",
            "url": url,
            "triggerCondition": "each_message",
            "headers": {"Authorization": "Bearer t"},
        }
    ]
    validate_against(skills["WEBHOOK"], "WebhookSkillResponseDTO")


def test_webhooks_belong_to_their_agent(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="hooks-agent-b-00001", name="B")
    api.call("POST", "/agents/webhooks", json={**BODY, "url": "https://a.example.com/h"})

    theirs = {s["systemName"]: s for s in api.call("GET", "/agents/by-api-key", key=other.key).json()["skills"]}

    assert theirs["WEBHOOK"]["webhooks"] == []


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"triggerCondition": "onMessageEnd"}, "triggerCondition"),
        ({"triggerCondition": None}, "triggerCondition"),
        ({"title": ""}, "title"),
        ({"headers": "Authorization: x"}, "headers"),
        ({"url": 5}, "url"),
    ],
)
def test_bad_webhook_body_is_400(api: Api, change: dict[str, Any], prop: str, validate_against: Validate) -> None:
    response = api.call("POST", "/agents/webhooks", json={**BODY, "url": "https://a.example.com/h", **change})

    assert response.status_code == 400
    assert [d["property"] for d in response.json()["details"]] == [prop]
    validate_against(response.json(), "BadRequestErrorDTO")
