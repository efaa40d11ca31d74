"""Every operator, sensor and trigger against the hostile servers: the redirect, the trickle, the flood.

What the transports do (``test_transports.py``) must hold for every path a DAG takes: the blocking and the
deferrable prompt, the message, the upload, the knowledge sync, the batch, the sensor's poke and the trigger.
Each ends in a typed error (or, for the trigger, an ``error`` event) whose text names the problem; no other
host receives anything; the key is in no message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from raia_provider.exceptions import RaiaError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.batch import RaiaBatchPromptOperator
from raia_provider.operators.files import RaiaUploadFilesOperator
from raia_provider.operators.knowledge import RaiaSyncKnowledgeOperator
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.sensors.raia import RaiaPromptSensor
from raia_provider.triggers.raia import RaiaPromptTrigger
from tests.conftest import TEST_KEY
from tests.hostile.cases import CASES, Case
from tests.hostile.servers import HostileServer, html_200
from tests.task_doubles import FakeOutletEvents, FakeTI

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fake_variables")]


def _context() -> Any:
    return {"ti": FakeTI(), "outlet_events": FakeOutletEvents()}


def _closing(operator: Any, call: Callable[[], Any]) -> Any:
    try:
        return call()
    finally:
        for name in ("hook", "poll_hook"):
            if name in vars(operator):
                vars(operator)[name].close()


def prompt_blocking(tmp: Path) -> Any:
    operator = RaiaPromptOperator(task_id="ask", prompt="hello", timeout=1)
    return _closing(operator, lambda: operator.execute(_context()))


def prompt_deferrable(tmp: Path) -> Any:
    operator = RaiaPromptOperator(task_id="ask", prompt="hello", deferrable=True, timeout=1)
    return _closing(operator, lambda: operator.execute(_context()))


def send_message(tmp: Path) -> Any:
    operator = RaiaSendMessageOperator(task_id="tell", conversation_id="c-1", message="hello", timeout=1)
    return _closing(operator, lambda: operator.execute(_context()))


def upload(tmp: Path) -> Any:
    (tmp / "doc.md").write_text("Knowledge.")
    operator = RaiaUploadFilesOperator(task_id="upload", paths=[str(tmp / "doc.md")])
    return _closing(operator, lambda: operator.execute(_context()))


def sync_knowledge(tmp: Path) -> Any:
    folder = tmp / "kb"
    folder.mkdir()
    (folder / "doc.md").write_text("Knowledge.")
    operator = RaiaSyncKnowledgeOperator(task_id="sync", source=str(folder), poll_interval=0.01)
    return _closing(operator, lambda: operator.execute(_context()))


def batch(tmp: Path) -> Any:
    operator = RaiaBatchPromptOperator(
        task_id="enrich",
        records=[{"id": "r0", "city": "Oslo"}],
        key_field="id",
        prompt_template="Describe {{ city }}",
        output_path=str(tmp / "answers.jsonl"),
        timeout=0.25,
    )
    return operator.execute(_context())


def sensor_poke(tmp: Path) -> Any:
    sensor = RaiaPromptSensor(task_id="wait", prompt_id="p-1")
    return _closing(sensor, lambda: sensor.poke(_context()))


def trigger(tmp: Path) -> Any:
    waiting = RaiaPromptTrigger(prompt_id="p-1", conn_id="raia_default", poll_interval=0.01, end_time=time.time() + 600)

    async def run() -> list[Any]:
        return [event.payload async for event in waiting.run()]

    (event,) = asyncio.run(run())
    assert event["status"] == "error", event
    raise RaiaError(event["message"])  # the event's text is judged like an exception's


def press_test_button(tmp: Path) -> Any:
    hook = RaiaHook()
    try:
        ok, message = hook.test_connection()
    finally:
        hook.close()
    assert not ok, message
    raise RaiaError(message)  # the Test button's text is judged like an exception's


PATHS: dict[str, Callable[[Path], Any]] = {
    "prompt-blocking": prompt_blocking,
    "prompt-deferrable": prompt_deferrable,
    "send-message": send_message,
    "upload": upload,
    "sync-knowledge": sync_knowledge,
    "batch": batch,
    "sensor-poke": sensor_poke,
    "trigger": trigger,
    "test-button": press_test_button,
}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@pytest.mark.parametrize("path", list(PATHS))
def test_every_path_ends_a_hostile_answer_in_a_typed_error(
    path: str,
    case: Case,
    serve: Callable[..., HostileServer],
    point_at: Callable[..., None],
    tmp_path: Path,
    quick_hooks: list[float],
) -> None:
    other = serve(html_200, "127.0.0.2")
    own = serve(case.behaviour(other))
    point_at(own)

    with pytest.raises(RaiaError) as raised:
        PATHS[path](tmp_path)

    expected = case.message(own, other) if callable(case.message) else case.message
    assert expected in str(raised.value)
    assert TEST_KEY not in str(raised.value) + repr(raised.value.args)
    assert other.seen == []
    assert own.seen  # the path did reach the connection's host
    if not case.error.transient:
        assert len(own.seen) == 1  # a permanent answer is not asked again
