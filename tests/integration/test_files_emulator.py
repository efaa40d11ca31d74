"""Agent files, webhooks and agent settings against the emulator over real sockets."""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from raia_provider.exceptions import RaiaInputError, RaiaNotFoundError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.testing import RaiaEmulator
from tests.integration.conftest import FAST_RETRIES

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


@pytest.fixture
def hook(emulator: RaiaEmulator) -> Any:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    yield hook
    hook.close()


def test_knowledge_file_life_cycle(hook: RaiaHook, emulator: RaiaEmulator, tmp_path: Path) -> None:
    emulator.configure(vector_store_delay=None)  # processing until the emulator is told otherwise
    assert hook.list_agent_files() == []  # raia's 404 "Agent files not found." reads as empty
    (tmp_path / "refunds.md").write_text("Refunds within 30 days.")
    (tmp_path / "shipping.md").write_text("Ships in 2 days.")
    first = hook.upload_agent_file(file=tmp_path / "refunds.md", auto_add_to_vector_store=True)
    second = hook.upload_agent_file(file=tmp_path / "shipping.md")
    assert (first.file_name, first.vector_store_upload_status) == ("refunds.md", "processing")
    assert second.vector_store_upload_status is None
    upload = emulator.requests(method="POST", path="/external/agent-files/upload")[0]
    (logged,) = upload.body["files"]
    assert (logged["field"], logged["fileName"], logged["size"]) == (
        "file",
        "refunds.md",
        len("Refunds within 30 days."),
    )

    emulator.complete_vector_store(first.id)  # raia finished processing the auto-added file
    hook.add_file_to_vector_store(file_id=second.id)  # the synchronous add returns once it is done
    statuses = {f.file_name: f.vector_store_upload_status for f in hook.list_agent_files()}
    assert statuses == {"refunds.md": "done", "shipping.md": "done"}

    hook.remove_file_from_vector_store(file_id=first.id)
    assert {f.id: f.vector_store_upload_status for f in hook.list_agent_files()}[first.id] is None
    hook.delete_agent_file(file_id=first.id)
    assert [f.id for f in hook.list_agent_files()] == [second.id]
    hook.delete_agent_files(file_ids=[second.id])
    assert hook.list_agent_files() == []
    with pytest.raises(RaiaNotFoundError):
        hook.delete_agent_file(file_id=first.id)


async def test_async_file_operations(emulator: RaiaEmulator, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha")
    emulator.configure(vector_store_delay=0)
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    try:
        uploaded = await hook.aupload_agent_file(file=tmp_path / "a.txt")
        await hook.aadd_file_to_vector_store_async(file_id=uploaded.id)
        (listed,) = await hook.alist_agent_files()
    finally:
        await hook.aclose()
    assert (listed.id, listed.vector_store_upload_status) == (uploaded.id, "done")


def test_retried_upload_sends_the_whole_file_again(hook: RaiaHook, emulator: RaiaEmulator, tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_bytes(b"0123456789" * 10_000)
    emulator.inject_fault(kind="status", status=503, method="POST", path="/external/agent-files/upload")
    hook.upload_agent_file(file=tmp_path / "doc.txt")
    uploads = emulator.requests(method="POST", path="/external/agent-files/upload")
    assert [u.status for u in uploads] == [503, 200]
    assert [f.file_name for f in hook.list_agent_files()] == ["doc.txt"]
    assert [f["size"] for f in uploads[1].body["files"]] == [100_000]


def sparse_file(path: Path, size: int) -> Path:
    with path.open("wb") as handle:  # a sparse file: 200 MB on disk costs nothing and writes in no time
        handle.truncate(size)
    return path


def measure(upload: Callable[[], Any]) -> tuple[Any, int, int]:
    """Run ``upload``; return its result, the peak of Python allocations and the growth of peak RSS."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        result = upload()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    return result, peak, rss_growth


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_200_mb_upload_streams_with_flat_memory(subprocess_connection: str, tmp_path: Path, mode: str) -> None:
    size = 200 * MiB
    source = sparse_file(tmp_path / "archive.bin", size)
    hook = RaiaHook(retry_policy=FAST_RETRIES)

    def upload() -> Any:
        if mode == "sync":
            return hook.upload_agent_file(file=source)

        import asyncio

        async def go() -> Any:
            try:
                return await hook.aupload_agent_file(file=source)
            finally:
                await hook.aclose()

        return asyncio.run(go())

    uploaded, python_peak, rss_growth = measure(upload)
    hook.close()
    assert uploaded.file_name == "archive.bin"
    # The whole file in memory would be 200 MiB; streaming holds a few 1 MiB chunks at a time.
    assert python_peak < 16 * MiB, f"peak Python allocations {python_peak / MiB:.1f} MiB"
    assert rss_growth < 64 * MiB, f"peak RSS grew {rss_growth / MiB:.1f} MiB"
    from raia_provider.testing import EmulatorClient

    with EmulatorClient(subprocess_connection) as control:
        last = control.requests(method="POST", path="/external/agent-files/upload")[-1]
    assert [(f["fileName"], f["size"]) for f in last.body["files"]] == [("archive.bin", size)]


# -- webhooks -----------------------------------------------------------------------------------------


def test_webhook_created_and_listed_in_profile(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    webhook = hook.create_webhook(
        title="CRM sync",
        description="push finished conversations",
        url="https://crm.example.com/raia",
        trigger_condition="end_dialog",
        headers={"Authorization": "Bearer t"},
    )
    assert (webhook.status, webhook.trigger_condition) == ("active", "end_dialog")
    skill = hook.get_agent().skill("WEBHOOK")
    assert skill is not None
    assert [(w.url, w.trigger_condition) for w in skill.webhooks or []] == [
        ("https://crm.example.com/raia", "end_dialog")
    ]


def test_refused_webhook_url_sends_nothing(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    with pytest.raises(RaiaInputError, match="argument 'url'"):
        hook.create_webhook(title="t", description="d", url="https://10.0.0.5/hook", trigger_condition="manual")
    assert emulator.requests() == []


# -- agent settings -----------------------------------------------------------------------------------


def test_limits_usage_statistic_and_resource_usage(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    hook.process_prompt(prompt="count my tokens")
    hook.record_resource_usage(type="VAPI_SECONDS", amount=30)
    limits = hook.create_agent_limits(
        tokens_amount_per_month=1000, sms_amount_per_month=10, emails_amount_per_month=5, seconds_amount_per_month=60
    )
    assert limits.sms_amount_per_month == 10
    assert hook.update_agent_limits(sms_amount_per_month=20).sms_amount_per_month == 20
    usage = hook.get_agent_usage()
    assert usage.tokens_amount > 0
    assert usage.seconds_amount == 30
    assert hook.get_agent_statistic().tokens_used > 0
    hook.delete_agent_limits()


def test_upload_from_object_storage_path(hook: RaiaHook, emulator: RaiaEmulator, tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "policy.txt").write_bytes(b"Returns accepted for 30 days.")
    uploaded = hook.upload_agent_file(file=ObjectStoragePath(f"file://{tmp_path}/kb/policy.txt"))
    assert uploaded.file_name == "policy.txt"
    (logged,) = emulator.requests(method="POST", path="/external/agent-files/upload")[0].body["files"]
    assert (logged["fileName"], logged["size"], logged["contentType"]) == ("policy.txt", 29, "text/plain")
