"""``RaiaCreateWebhookOperator`` against the raia emulator over real sockets: re-runs register nothing twice."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import pytest

from raia_provider.exceptions import RaiaInputError
from raia_provider.operators.webhook import RaiaCreateWebhookOperator
from raia_provider.testing import RaiaEmulator

if TYPE_CHECKING:
    from airflow.sdk import Context

pytestmark = pytest.mark.integration

SECRET = "Bearer whsec-EMULATOR-5c81"
PARAMS = cast("Context", {"params": {"env": "prod", "trigger": "end_dialog"}})


def register(**overrides: Any) -> dict[str, Any]:
    """Build, render and run the operator as a task run would, once."""
    arguments: dict[str, Any] = {
        "task_id": "register_webhook",
        "title": "CRM sync ({{ params.env }})",
        "description": "push finished conversations",
        "url": "https://crm.example.com/{{ params.env }}/raia",
        "trigger_condition": "{{ params.trigger }}",
        "headers": {"Authorization": SECRET},
        **overrides,
    }
    task = RaiaCreateWebhookOperator(**arguments)
    task.render_template_fields(PARAMS)
    result: dict[str, Any] = task.execute(PARAMS)
    return result


def test_second_run_creates_nothing(emulator: RaiaEmulator) -> None:
    first = register()
    second = register()

    assert first["created"] is True
    assert isinstance(first["id"], str)
    assert first["id"]
    assert second == {
        "created": False,
        "id": None,
        "url": "https://crm.example.com/prod/raia",
        "trigger_condition": "end_dialog",
        "title": "CRM sync (prod)",
        "status": "active",
    }
    posts = emulator.requests(method="POST", path="/external/agents/webhooks")
    assert len(posts) == 1
    assert posts[0].body == {
        "title": "CRM sync (prod)",
        "description": "push finished conversations",
        "url": "https://crm.example.com/prod/raia",
        "triggerCondition": "end_dialog",
        "headers": {"Authorization": SECRET},
    }
    assert len(emulator.requests(method="GET", path="/external/agents/by-api-key")) == 2
    assert [(w.url, w.trigger_condition) for w in emulator.webhooks()] == [
        ("https://crm.example.com/prod/raia", "end_dialog")
    ]
    assert SECRET not in json.dumps([first, second])


def test_another_trigger_for_the_same_url_is_a_new_webhook(emulator: RaiaEmulator) -> None:
    assert register()["created"] is True
    assert register(trigger_condition="each_message")["created"] is True
    assert register(trigger_condition="each_message")["created"] is False
    assert len(emulator.requests(method="POST", path="/external/agents/webhooks")) == 2
    assert sorted(w.trigger_condition for w in emulator.webhooks()) == ["each_message", "end_dialog"]


def test_a_refused_url_sends_nothing(emulator: RaiaEmulator) -> None:
    with pytest.raises(RaiaInputError, match="argument 'url'"):
        register(url="https://{{ params.env }}.internal/raia")
    assert emulator.requests() == []
