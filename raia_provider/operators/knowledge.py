"""``RaiaSyncKnowledgeOperator``: make the agent's knowledge mirror a folder of documents, idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetAlias

from raia_provider._core.form import DEFAULT_CONN_ID
from raia_provider._core.retry import SINGLE_ATTEMPT
from raia_provider.assets.raia import knowledge_uri
from raia_provider.engines.knowledge_manifest import Manifest, VariableManifestStore
from raia_provider.engines.knowledge_plan import HashedDocument, Plan, plan_sync
from raia_provider.engines.knowledge_source import SourceDocument, check_globs, content_hash, list_documents
from raia_provider.engines.knowledge_sync import KnowledgeSync, SyncOutcome
from raia_provider.exceptions import RaiaInputError, RaiaPartialFailureError, RaiaUnsafeSyncError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators._waiting import seconds
from raia_provider.operators.base import RaiaBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


#: The XCom key of the summary pushed when the sync failed part-way.
SUMMARY_XCOM_KEY = "sync_summary"
#: How many names the plan logs per action before "... and N more".
MAX_LOGGED = 200


def knowledge_alias(raia_conn_id: str) -> AssetAlias:
    """The AssetAlias through which the operator emits events on the agent's knowledge Asset.

    :param raia_conn_id: the ``raia`` connection the sync uses.
    """
    return AssetAlias(f"raia-knowledge:{raia_conn_id}")


def manifest_variable_for(raia_conn_id: str) -> str:
    """The default Airflow Variable that holds the sync's manifest.

    :param raia_conn_id: the ``raia`` connection the sync uses.
    """
    return f"raia_knowledge_manifest__{raia_conn_id}"


class RaiaSyncKnowledgeOperator(RaiaBaseOperator):
    """Make the agent's knowledge hold exactly the documents of a folder: add, replace, remove, keep.

    **Source.** Every regular file under ``source`` (recursively; names starting with ``.`` left out)
    whose path relative to ``source`` matches one of the ``include`` globs and none of the ``exclude``
    globs (``**`` crosses folders: ``**/*.md``, ``drafts/**``). ``source`` is a local folder, a URL such as
    ``s3://bucket/kb`` or an ``ObjectStoragePath``. raia keeps only a file's base name, so two kept files
    with the same name in different folders are refused.

    **Plan.** The agent's files are listed (``GET /agent-files/by-api-key``) and compared with the source
    by name and content hash. raia stores no metadata with a file, so the hashes live in a manifest this
    operator owns: JSON in the Airflow Variable ``manifest_variable`` (default
    ``raia_knowledge_manifest__<raia_conn_id>``), read and written through Airflow, so every worker sees
    it. A document whose size and modification time (or ETag) match the manifest is not read again. Each
    document is then *added* (no file of that name), *replaced* (content changed, or a file of unknown
    content: the first sync uploads everything once), or *kept*; a file whose name no document has is
    *removed*. The plan is logged before anything changes; ``dry_run=True`` stops there.

    **Apply.** New and changed documents are streamed to ``POST /agent-files/upload`` straight into the
    vector store; the operator waits (up to ``vector_store_timeout``) for raia to process them, and only
    then deletes (``DELETE /agent-files``) the files whose document is gone and the old copies of the
    replaced ones, so the agent never knows less than before, even mid-run. A new copy whose processing
    failed is deleted and the old copy kept; one still processing when the wait ends keeps its old copy
    until a later run finds it done. A run that would remove more than ``max_delete_ratio`` of the agent's
    files (an empty or unmounted source folder, say) raises
    :class:`~raia_provider.exceptions.RaiaUnsafeSyncError` before changing anything.

    **Idempotent and resumable.** A second run right after a successful one uploads and deletes nothing.
    Before its first upload a run records what it is about to upload; a run killed part-way is finished by
    the next one (a retry or the next schedule), which adopts the files the killed run had uploaded instead
    of uploading them again, and removes any duplicate.

    **Asset.** When it changed anything, the run emits an event on the Asset
    ``raia://<region>/agents/<agent id>/files`` through the AssetAlias ``raia-knowledge:<raia_conn_id>``
    (added to the task's ``outlets``), so a downstream DAG can be scheduled on either. A run that changed
    nothing emits no event.

    **Result** (XCom, small)::

        {"agent_id": "...", "asset_uri": "raia://us/agents/.../files", "dry_run": False,
         "plan": {"add": 1, "replace": 1, "remove": 1, "keep": 10},
         "documents": 12, "skipped_links": [], "uploaded": 2, "uploaded_bytes": 5120, "deleted": 2,
         "uploaded_files": [{"name": "faq.md", "file_id": "...", "action": "replace", "bytes": 2048,
                             "vector_store_status": "processing"}, ...],
         "deleted_file_ids": ["...", "..."], "failed": [], "still_processing": [],
         "manifest": "Airflow Variable 'raia_knowledge_manifest__raia_default'"}

    **Failures.** A document raia refuses (400) or that vanished is recorded and the others go on; at the
    end the summary is pushed to XCom ``sync_summary`` and
    :class:`~raia_provider.exceptions.RaiaPartialFailureError` names the failed documents. Any other error
    (a refused key, raia down after the hook's retries) stops the run before any delete, saves the manifest
    with what was uploaded, pushes the summary and is re-raised.

    :param source: the folder of documents: a local path, a URL or an ``ObjectStoragePath`` (templated).
    :param include: glob(s) a document's relative path must match; default ``"**"``, everything (templated).
    :param exclude: glob(s) that leave a document out (templated).
    :param dry_run: only plan and log; change nothing at raia and write no manifest.
    :param follow_symlinks: also read symbolic links (to files or folders) whose target is outside
        ``source``. By default they are skipped, logged and listed in the summary's ``skipped_links``: a
        link planted in the folder must not send any file the worker can read to the agent.
    :param max_delete_ratio: the largest share (0 to 1) of the agent's files a run may remove because their
        document is gone; default 0.5. ``1.0`` allows emptying the agent.
    :param manifest_variable: the Airflow Variable holding the manifest; default
        ``raia_knowledge_manifest__<raia_conn_id>`` (templated).
    :param poll_interval: seconds (or a ``timedelta``) between reads of the file list while raia processes
        the uploads; default 10.
    :param vector_store_timeout: how long to wait for that processing (seconds or ``timedelta``); default 30 min.
    :param raia_conn_id: the ``raia`` connection.
    """

    template_fields: Sequence[str] = ("source", "include", "exclude", "manifest_variable")
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        source: Any,
        include: str | Sequence[str] = "**",
        exclude: str | Sequence[str] = (),
        dry_run: bool = False,
        follow_symlinks: bool = False,
        max_delete_ratio: float = 0.5,
        manifest_variable: str | None = None,
        poll_interval: float | timedelta = 10.0,
        vector_store_timeout: float | timedelta = 1800.0,
        **kwargs: Any,
    ) -> None:
        conn_id = kwargs.get("raia_conn_id", DEFAULT_CONN_ID)
        kwargs["outlets"] = [*_as_list(kwargs.get("outlets")), knowledge_alias(conn_id)]
        super().__init__(**kwargs)
        owner = type(self).__name__
        if source is None or (isinstance(source, str) and not source.strip()):
            raise RaiaInputError("argument 'source' is required: the folder (or object-storage prefix) to mirror.")
        if not isinstance(dry_run, bool):
            raise RaiaInputError(f"argument 'dry_run' must be True or False; got {dry_run!r}.")
        if not isinstance(follow_symlinks, bool):
            raise RaiaInputError(f"argument 'follow_symlinks' must be True or False; got {follow_symlinks!r}.")
        if isinstance(max_delete_ratio, bool) or not isinstance(max_delete_ratio, int | float):
            raise RaiaInputError(f"argument 'max_delete_ratio' must be a number from 0 to 1; got {max_delete_ratio!r}.")
        if not 0 <= max_delete_ratio <= 1:
            raise RaiaInputError(f"argument 'max_delete_ratio' must be from 0 to 1; got {max_delete_ratio!r}.")
        if manifest_variable is not None and (not isinstance(manifest_variable, str) or not manifest_variable.strip()):
            raise RaiaInputError(f"argument 'manifest_variable' must be a non-blank string; got {manifest_variable!r}.")
        self.source = source
        self.include = check_globs("include", include) if _literal(include) else include
        self.exclude = check_globs("exclude", exclude) if _literal(exclude) else exclude
        self.plan_only = dry_run  # BaseOperator.dry_run() is a method
        self.follow_symlinks = follow_symlinks
        self.max_delete_ratio = float(max_delete_ratio)
        self.manifest_variable = manifest_variable or manifest_variable_for(conn_id)
        self.poll_interval = seconds(poll_interval, "poll_interval", owner)
        self.vector_store_timeout = seconds(vector_store_timeout, "vector_store_timeout", owner)
        self.asset_alias = knowledge_alias(conn_id)

    @cached_property
    def poll_hook(self) -> RaiaHook:
        """Reads the file list while waiting: one request per read, the poll loop retries failed reads."""
        return RaiaHook(self.raia_conn_id, retry_policy=SINGLE_ATTEMPT)

    def execute(self, context: Context) -> dict[str, Any]:
        """Plan the sync, log it, and apply it unless ``dry_run``.

        :param context: the task's context.
        :raises RaiaInputError: before any request, if the source or a glob is unusable.
        :raises RaiaUnsafeSyncError: before any change, if the plan removes more than ``max_delete_ratio``.
        :raises RaiaPartialFailureError: if some documents failed while the others were synced.
        """
        listing = list_documents(
            self.source,
            check_globs("include", self.include),
            check_globs("exclude", self.exclude),
            follow_symlinks=self.follow_symlinks,
        )
        documents = listing.documents
        for link in listing.skipped_links:
            self.log.warning("Skipped %s: a symbolic link to outside the source (follow_symlinks=False)", link)
        store = VariableManifestStore(self.manifest_variable)
        manifest = store.load()
        hashed = [HashedDocument(document, self._hash(document, manifest)) for document in documents]
        agent = self.hook.get_agent()
        manifest = manifest.for_agent(agent.id, where=store.where)
        listed = self.hook.list_agent_files()
        plan = plan_sync(hashed, listed, manifest)
        asset_uri = knowledge_uri(region=self.hook.settings.region, agent_id=agent.id)
        self._log_plan(plan, len(documents))
        summary = _summary(plan, len(documents), agent.id, asset_uri, store.where, dry_run=self.plan_only)
        summary["skipped_links"] = listing.skipped_links
        if self.plan_only:
            self.log.info("dry_run=True: nothing was changed at raia")
            return summary
        if plan.delete_ratio > self.max_delete_ratio:
            raise RaiaUnsafeSyncError(
                _unsafe_message(plan, self.source, self.max_delete_ratio),
                removals=len(plan.removals),
                agent_files=plan.agent_files,
            )
        if not plan.changes_anything:
            self.log.info("raia already holds exactly the %d document(s) of the source: nothing to do", len(documents))
            return summary
        sync = KnowledgeSync(self.hook, self.poll_hook, store, self.poll_interval, self.vector_store_timeout)
        outcome = sync.apply(plan, manifest, listed)
        summary.update(_outcome(outcome))
        if outcome.uploaded or outcome.deleted:
            extra: dict[str, Any] = {"uploaded": len(outcome.uploaded), "deleted": len(outcome.deleted)}
            context["outlet_events"][self.asset_alias].add(Asset(asset_uri), extra=extra)
        if outcome.fatal is not None or outcome.failed:
            context["ti"].xcom_push(key=SUMMARY_XCOM_KEY, value=summary)
        if outcome.fatal is not None:
            raise outcome.fatal
        if outcome.failed:
            raise RaiaPartialFailureError(_partial_message(outcome), succeeded=outcome.uploaded, failed=outcome.failed)
        self.log.info(
            "Knowledge synced: %d uploaded (%d bytes), %d deleted, %d kept",
            len(outcome.uploaded),
            summary["uploaded_bytes"],
            len(outcome.deleted),
            len(plan.keeps),
        )
        return summary

    def _hash(self, document: SourceDocument, manifest: Manifest) -> str:
        known = manifest.known_hash(document.location, document.size, document.version)
        if known is not None:
            return known
        try:
            return content_hash(document)
        except OSError as error:
            raise RaiaInputError(f"argument 'source': {document.relative!r} cannot be read: {error}") from None

    def _log_plan(self, plan: Plan, documents: int) -> None:
        self.log.info(
            "Plan for %d document(s) against %d agent file(s): add %d, replace %d, remove %d, keep %d",
            documents,
            plan.agent_files,
            len(plan.adds),
            len(plan.replaces),
            len(plan.removals),
            len(plan.keeps),
        )
        lines = [f"add {upload.source.document.relative}" for upload in plan.adds]
        lines += [
            f"replace {upload.source.document.relative} (old: {', '.join(f.id for f in upload.superseded)})"
            for upload in plan.replaces
        ]
        lines += [f"remove {agent_file.file_name} ({agent_file.id})" for agent_file in plan.removals]
        lines += [f"remove duplicate {old.file_name} ({old.id})" for keep in plan.keeps for old in keep.superseded]
        for line in lines[:MAX_LOGGED]:
            self.log.info("  %s", line)
        if len(lines) > MAX_LOGGED:
            self.log.info("  ... and %d more", len(lines) - MAX_LOGGED)
        if plan.adopted:
            self.log.info("Adopting %d file(s) an interrupted run uploaded", len(plan.adopted))


def _as_list(outlets: Any) -> list[Any]:
    if outlets is None:
        return []
    return list(outlets) if isinstance(outlets, list | tuple) else [outlets]


def _literal(value: Any) -> bool:
    """Whether a glob argument can be checked when the DAG is parsed (not a template or an XComArg)."""
    if isinstance(value, str):
        return "{{" not in value
    if isinstance(value, list | tuple):
        return not any(isinstance(item, str) and "{{" in item for item in value)
    return not hasattr(value, "resolve")  # an XComArg is resolved at run time; anything else is wrong now


def _summary(
    plan: Plan, documents: int, agent_id: str, asset_uri: str, manifest: str, *, dry_run: bool
) -> dict[str, Any]:
    return {
        "agent_id": agent_id,
        "asset_uri": asset_uri,
        "dry_run": dry_run,
        "plan": {
            "add": len(plan.adds),
            "replace": len(plan.replaces),
            "remove": len(plan.removals),
            "keep": len(plan.keeps),
        },
        "documents": documents,
        "uploaded": 0,
        "uploaded_bytes": 0,
        "deleted": 0,
        "uploaded_files": [],
        "deleted_file_ids": [],
        "failed": [],
        "still_processing": [],
        "manifest": manifest,
    }


def _outcome(outcome: SyncOutcome) -> dict[str, Any]:
    return {
        "uploaded": len(outcome.uploaded),
        "uploaded_bytes": sum(item["bytes"] for item in outcome.uploaded),
        "deleted": len(outcome.deleted),
        "uploaded_files": outcome.uploaded,
        "deleted_file_ids": outcome.deleted,
        "failed": outcome.failed,
        "still_processing": outcome.still_processing,
    }


def _unsafe_message(plan: Plan, source: Any, max_delete_ratio: float) -> str:
    return (
        f"Refusing to sync: the plan removes {len(plan.removals)} of the agent's {plan.agent_files} file(s) "
        f"({plan.delete_ratio:.0%}) because their documents are not in {str(source)!r}, more than "
        f"max_delete_ratio={max_delete_ratio:g} allows. Is the source empty or not mounted? Nothing was uploaded "
        "or deleted. If the removal is meant, run once with a higher max_delete_ratio (1.0 allows emptying the agent)."
    )


def _partial_message(outcome: SyncOutcome) -> str:
    failures = "; ".join(f"{item['name']} ({item['stage']}: {item['error']})" for item in outcome.failed[:20])
    more = f"; ... and {len(outcome.failed) - 20} more" if len(outcome.failed) > 20 else ""
    return (
        f"{len(outcome.failed)} document(s) could not be synced: {failures}{more}. The others were: "
        f"{len(outcome.uploaded)} uploaded, {len(outcome.deleted)} deleted. The older copies of the failed "
        f"documents are kept; the next run tries them again. The summary is in XCom {SUMMARY_XCOM_KEY!r}."
    )
