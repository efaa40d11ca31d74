"""Links planted in a source folder: the upload and the knowledge sync send only what is inside (real sockets).

The emulator's request log holds every uploaded file's name and SHA-256: the outside file's content must
not be among them unless ``follow_symlinks=True`` says so.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from raia_provider.operators.files import RaiaUploadFilesOperator
from raia_provider.operators.knowledge import RaiaSyncKnowledgeOperator
from raia_provider.testing import RaiaEmulator
from tests.task_doubles import FakeOutletEvents, FakeTI

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fake_variables")]

SECRET = b"aws_secret_access_key = AKIA-planted"
UPLOAD = "/external/agent-files/upload"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "credentials").write_bytes(SECRET)
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "faq.md").write_text("Refunds within 30 days.")
    (folder / "link.md").symlink_to(tmp_path / "outside" / "credentials")
    return folder


def uploaded(emulator: RaiaEmulator) -> dict[str, str]:
    return {
        part["fileName"]: part["sha256"] for entry in emulator.requests("POST", UPLOAD) for part in entry.body["files"]
    }


def _run(operator: Any, context: Any) -> Any:
    try:
        return operator.execute(context)
    finally:
        operator.hook.close()
        if "poll_hook" in vars(operator):
            operator.poll_hook.close()


@pytest.mark.parametrize("follow", [False, True])
def test_the_sync_uploads_a_link_to_outside_only_when_told(emulator: RaiaEmulator, source: Path, follow: bool) -> None:
    emulator.configure(vector_store_delay=0)
    operator = RaiaSyncKnowledgeOperator(task_id="sync", source=str(source), poll_interval=0.01, follow_symlinks=follow)

    summary = _run(operator, {"ti": FakeTI(), "outlet_events": FakeOutletEvents()})

    secret_sha = hashlib.sha256(SECRET).hexdigest()
    if follow:
        assert summary["skipped_links"] == []
        assert uploaded(emulator)["link.md"] == secret_sha
    else:
        assert summary["skipped_links"] == ["link.md"]
        assert set(uploaded(emulator)) == {"faq.md"}
        assert secret_sha not in uploaded(emulator).values()


def test_an_upload_glob_skips_a_link_to_outside_and_reports_it(emulator: RaiaEmulator, source: Path) -> None:
    operator = RaiaUploadFilesOperator(task_id="upload", paths=f"{source}/*.md")

    result = _run(operator, {"ti": FakeTI()})

    assert result["skipped_links"] == [str(source / "link.md")]
    assert set(uploaded(emulator)) == {"faq.md"}
