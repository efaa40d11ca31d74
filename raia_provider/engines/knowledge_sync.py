"""Carry out a knowledge-sync plan so that the agent never knows less than before, even mid-run.

Order of work:

1. save the manifest with the uploads about to start as ``pending`` (what makes a killed run resumable);
2. upload each new or changed document, streamed, straight into the vector store (``autoAddToVectorStore``);
3. wait, through the provider's one poll loop, until raia has processed them (and any kept copy still
   ``processing`` that an older copy waits on);
4. only then delete: files whose document is gone, and older copies superseded by a copy now ``done``.
   A copy whose processing failed is deleted and its older copies are kept, so the agent keeps the last
   version it could search; a copy still processing when the wait ends keeps its older copies until a
   later run finds it done;
5. save the manifest.

A failure about one document (a 400, a file that vanished) is recorded and the others go on. Any other
error stops the uploads and skips the deletes (nothing is removed unless everything before it worked),
the manifest is saved with what was done, and the error is raised to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from raia_provider._core import clock
from raia_provider._core.file_source import file_part
from raia_provider._core.multipart import FilePart
from raia_provider.engines.file_errors import is_file_specific
from raia_provider.engines.knowledge_manifest import Manifest
from raia_provider.engines.knowledge_plan import Plan, Upload
from raia_provider.engines.polling import PollTarget, poll_steps, run_poll
from raia_provider.exceptions import RaiaAPIError, RaiaInputError, RaiaPollError

if TYPE_CHECKING:
    from raia_provider.engines.knowledge_manifest import VariableManifestStore
    from raia_provider.hooks.raia import RaiaHook
    from raia_provider.models.files import AgentFile

log = logging.getLogger(__name__)

#: How many ids one ``DELETE /agent-files`` carries.
DELETE_CHUNK = 100


@dataclass
class SyncOutcome:
    """What applying a plan did.

    :param uploaded: one dict per uploaded document (name, file_id, action, bytes, vector_store_status).
    :param deleted: the ids of the files deleted.
    :param failed: one dict per document that failed (name, stage, error, status_code).
    :param still_processing: names whose new copy raia was still processing when the wait ended.
    :param fatal: the error that stopped the run early, if any.
    """

    uploaded: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    still_processing: list[str] = field(default_factory=list)
    fatal: Exception | None = None

    def fail(self, name: str, stage: str, error: Exception | str) -> None:
        """Record a document's failure.

        :param name: the document's file name.
        :param stage: ``upload``, ``vector_store`` or ``delete``.
        :param error: what went wrong.
        """
        text = f"{type(error).__name__}: {error}" if isinstance(error, Exception) else error
        status = error.status_code if isinstance(error, RaiaAPIError) else None
        self.failed.append({"name": name, "stage": stage, "error": text, "status_code": status})


@dataclass
class KnowledgeSync:
    """Applies a :class:`~raia_provider.engines.knowledge_plan.Plan`.

    :param hook: sends the uploads and deletes (with the shared retry policy).
    :param poll_hook: reads the file list while waiting (single attempts: the poll loop retries reads).
    :param store: where the manifest is kept.
    :param poll_interval: seconds between reads of the file list while raia processes uploads.
    :param vector_store_timeout: how long to wait for that processing, in seconds.
    :param sleep: the blocking sleep between polls (default: :func:`raia_provider._core.clock.sleep`).
    """

    hook: RaiaHook
    poll_hook: RaiaHook
    store: VariableManifestStore
    poll_interval: float
    vector_store_timeout: float
    sleep: Callable[[float], None] | None = None

    def apply(self, plan: Plan, manifest: Manifest, listed: Sequence[AgentFile]) -> SyncOutcome:
        """Upload, wait, delete and record, in that order (see the module docs).

        :param plan: the plan.
        :param manifest: the manifest the plan was made with; updated and saved.
        :param listed: the files raia listed when the plan was made.
        """
        outcome = SyncOutcome()
        present = {agent_file.id for agent_file in listed}
        # Forget files raia no longer has; take in the ones a killed run uploaded.
        manifest.files = {fid: entry for fid, entry in manifest.files.items() if fid in present} | plan.adopted
        if plan.uploads:
            manifest.pending = {upload.source.document.name: upload.source.entry() for upload in plan.uploads}
            manifest.seen = sorted(present)
            self.store.save(manifest)
        copies = self._upload(plan.uploads, manifest, outcome)
        statuses: dict[str, Any] = {}
        if outcome.fatal is None:
            statuses = self._wait(plan, copies, outcome)
        if outcome.fatal is None:
            self._delete(self._deletions(plan, copies, statuses, outcome), manifest, outcome)
        failed_uploads = {item["name"] for item in outcome.failed if item["stage"] == "upload"}
        # A failed upload may still have stored the file (an answer lost on the way back): stays pending.
        manifest.pending = {name: entry for name, entry in manifest.pending.items() if name in failed_uploads}
        manifest.seen = sorted(present | set(manifest.files)) if manifest.pending else []
        self.store.save(manifest)
        return outcome

    def _upload(self, uploads: Sequence[Upload], manifest: Manifest, outcome: SyncOutcome) -> dict[str, AgentFile]:
        """Upload each document; return the new copy of each name uploaded."""
        copies: dict[str, AgentFile] = {}
        for index, upload in enumerate(uploads):
            document = upload.source.document
            try:
                part = _part(document.target)
                agent_file = self.hook.upload_agent_file(file=part, auto_add_to_vector_store=True)
            except Exception as error:
                outcome.fail(document.name, "upload", error)
                if not is_file_specific(error):
                    outcome.fatal = error
                    left = [later.source.document.name for later in uploads[index + 1 :]]
                    log.error(
                        "Stopping at %s: %s is not specific to this file; %d upload(s) not attempted, nothing deleted",
                        document.relative,
                        error,
                        len(left),
                    )
                    break
                log.warning("Could not upload %s: %s", document.relative, error)
                continue
            manifest.files[agent_file.id] = upload.source.entry()
            copies[document.name] = agent_file
            outcome.uploaded.append(
                {
                    "name": document.name,
                    "file_id": agent_file.id,
                    "action": upload.action,
                    "bytes": part.size,
                    "vector_store_status": agent_file.vector_store_upload_status,
                }
            )
            log.info("Uploaded %s as %s (%s, %d bytes)", document.relative, agent_file.id, upload.action, part.size)
        return copies

    def _wait(self, plan: Plan, copies: dict[str, AgentFile], outcome: SyncOutcome) -> dict[str, Any]:
        """Wait until raia has processed the new copies and the kept ones older copies wait on."""
        watched = [copy.id for copy in copies.values()]
        watched += [
            keep.agent_file.id
            for keep in plan.keeps
            if keep.superseded and keep.agent_file.vector_store_upload_status == "processing"
        ]
        if not watched:
            return {}
        target = PollTarget.files(watched)
        log.info(
            "Waiting up to %.0f s for raia to process %d file(s) into the vector store",
            self.vector_store_timeout,
            len(watched),
        )
        steps = poll_steps(target, poll_interval=self.poll_interval, end_time=clock.now() + self.vector_store_timeout)
        event = run_poll(steps, lambda: target.read(self.poll_hook), self.sleep or clock.sleep)
        if event["status"] == "success":
            return dict(event["result"]["statuses"])
        if event["status"] == "timeout":
            log.warning("%s; their older copies are kept until a later run finds them done", event["message"])
            return {file_id: "processing" for file_id in watched}
        outcome.fatal = RaiaPollError(event["message"])
        return {}

    def _deletions(
        self,
        plan: Plan,
        copies: dict[str, AgentFile],
        statuses: dict[str, Any],
        outcome: SyncOutcome,
    ) -> list[AgentFile]:
        """What may be deleted now: gone documents, and copies superseded by one that is done."""
        doomed = list(plan.removals)
        for upload in plan.uploads:
            name = upload.source.document.name
            copy = copies.get(name)
            if copy is None:
                continue  # the upload failed: the older copies stay
            status = statuses.get(copy.id)
            if status == "done":
                doomed.extend(upload.superseded)
            elif status == "processing":
                outcome.still_processing.append(name)
            else:
                outcome.fail(name, "vector_store", f"raia's vector-store processing ended {status!r}")
                doomed.append(copy)  # not searchable: the older copies are worth more
        for keep in plan.keeps:
            if not keep.superseded:
                continue
            status = statuses.get(keep.agent_file.id, keep.agent_file.vector_store_upload_status)
            if status == "done":
                doomed.extend(keep.superseded)
            elif status == "processing":
                outcome.still_processing.append(keep.source.document.name)
            else:  # the next run uploads it again; the older copies stay until then
                outcome.fail(
                    keep.source.document.name, "vector_store", f"raia's vector-store processing ended {status!r}"
                )
        return doomed

    def _delete(self, doomed: Sequence[AgentFile], manifest: Manifest, outcome: SyncOutcome) -> None:
        ids = list(dict.fromkeys(agent_file.id for agent_file in doomed))
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            try:
                self.hook.delete_agent_files(file_ids=chunk)
            except Exception as error:
                outcome.fatal = error
                log.error("Could not delete %d file(s): %s", len(ids) - start, error)
                return
            for file_id in chunk:
                manifest.files.pop(file_id, None)
            outcome.deleted.extend(chunk)
        if ids:
            log.info("Deleted %d file(s) from raia: %s", len(ids), ", ".join(ids))


def _part(target: Any) -> FilePart:
    try:
        return file_part(target)
    except ValueError as error:  # vanished or unreadable since the source was listed
        raise RaiaInputError(f"argument 'source': {error}") from None
