"""``RaiaUploadFilesOperator``: put local or object-storage files into the agent's knowledge base."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from raia_provider.engines.file_errors import is_file_specific
from raia_provider.engines.source_files import PathEntry, SourceFile, has_entries, resolve_sources
from raia_provider.engines.task_memory import TaskMemory
from raia_provider.exceptions import RaiaAPIError, RaiaInputError, RaiaPartialFailureError
from raia_provider.operators.base import RaiaBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from raia_provider._core.multipart import FilePart
    from raia_provider.models.files import AgentFile

VectorStoreMode = Literal["auto", "sync", "async", "none"]
#: The values ``vector_store`` accepts.
VECTOR_STORE_MODES: tuple[str, ...] = get_args(VectorStoreMode)
#: The XCom key of the partial result pushed when some files failed.
RESULT_XCOM_KEY = "upload_result"
#: Prefix of the task-memory keys, one per uploaded source (Airflow 3.3+).
MEMORY_PREFIX = "raia_upload_file:"
#: How many files the exception message names in each list before "... and N more".
MAX_NAMED = 20

_UPLOAD, _ADD = "upload", "add_to_vector_store"


class RaiaUploadFilesOperator(RaiaBaseOperator):
    """Upload files into the raia agent's knowledge base and add them to its vector store.

    Each file is streamed (multipart field ``file``; never read whole into memory) to
    ``POST /agent-files/upload``. The files are named by ``paths``:

    * a local path (``str`` or ``pathlib.Path``), or an Airflow ``ObjectStoragePath``
      (``ObjectStoragePath("s3://bucket/kb/faq.pdf", conn_id="aws")``); a string containing ``://`` is
      read as ``ObjectStoragePath(string)`` (the scheme's default connection), so a templated string can
      name object storage too;
    * a glob pattern (``*``, ``?``, ``[...]``; ``**`` recurses): local patterns go through
      :func:`glob.glob`, object-storage ones through ``ObjectStoragePath.glob``. Only regular files
      are kept, names starting with ``.`` are left out unless the pattern names them, and the matches
      are sorted by their path, so the order is the same on every run. An entry that names an existing
      file is taken literally even if its name contains ``[`` or ``*``;
    * a directory: **a directory means the regular files directly in it** (not recursive; hidden names
      left out), sorted; use a ``**`` glob to go deeper;
    * or a list of any of these, uploaded in list order. An entry reached twice (listed twice, or
      matched by two patterns, or as ``/a/x.md`` and ``file:///a/x.md``) is uploaded once.

    Everything is checked before the first request: a pattern that matches no file, a directory with
    no file, a path that does not exist or cannot be read, or an entry of the wrong type raises
    :class:`~raia_provider.exceptions.RaiaInputError` naming ``paths`` and the entry. Relative local
    paths are relative to the worker's working directory; prefer absolute ones.

    ``vector_store`` says how the files reach the agent's vector store (where they become searchable):

    * ``"auto"`` (default): sent with the upload (``autoAddToVectorStore=true``); the status reported is
      the one in raia's upload answer (usually ``processing``);
    * ``"sync"``: upload with ``autoAddToVectorStore=false``, then ``PUT add-to-vector-store``, which
      returns once raia has taken the file;
    * ``"async"``: upload with ``autoAddToVectorStore=false``, then ``PUT add-to-vector-store/async``;
    * ``"none"``: upload with ``autoAddToVectorStore=false`` only.

    For ``"sync"`` and ``"async"`` the statuses are read back with one ``GET /agent-files/by-api-key``
    after the last file. Statuses are returned as raia reports them (``processing``, ``done``,
    ``failed`` or ``None`` = not in the vector store); this operator does not wait for ``processing``
    to end.

    The result (returned to XCom) is plain JSON::

        {"files": [{"source": "/data/kb/faq.md", "file_name": "faq.md", "file_id": "<uuid>",
                    "vector_store_status": "processing", "skipped": False}, ...],
         "uploaded": 3, "skipped": 1, "failed": [], "not_attempted": [], "skipped_links": []}

    ``source`` is the path as given, or as expanded from a pattern or directory. ``uploaded`` counts the
    files uploaded by this try, ``skipped`` those an earlier try had uploaded (see retries below).

    **Failures.** The hook first retries transient errors itself (connection errors, timeouts, 429,
    5xx). What is left is then judged:

    * specific to one file, so the others are still uploaded: a 400 or other refusing 4xx
      (:class:`~raia_provider.exceptions.RaiaBadRequestError`, e.g. "Failed to upload agent file."),
      a file that vanished or became unreadable after the check, and a 404 on the vector-store step
      (the uploaded file is gone);
    * fatal, so the task stops at once without trying the remaining files: a refused key
      (403/401), an unusable connection, a 404 on the upload itself (wrong agent or URL), errors still
      transient after the hook's retries (raia or the network is down; 5xx included, since raia
      documents per-file refusals as 400), answers that break raia's contract, and anything unexpected.

    When any file failed, the result, with ``failed`` (``source``, ``file_name``, ``file_id`` when the
    upload itself worked, ``stage``, ``error``, ``status_code``) and ``not_attempted`` (sources left
    after a fatal error), is pushed to XCom under ``upload_result``. Then a fatal error is re-raised as
    it is (so a retry policy can match its type), and file-specific failures raise
    :class:`~raia_provider.exceptions.RaiaPartialFailureError` naming the failed files with their
    errors and the ones that succeeded.

    **Retries.** On Airflow 3.3+ each upload is remembered in the task state store as soon as raia
    confirms it, keyed by the file's identity: its canonical location (resolved absolute path, or the
    object-storage URL) **plus its size and modification time** (for object storage, the first of
    ``mtime``/``LastModified``/``updated``/``ETag`` its backend reports). A later try of the same task
    instance skips a source whose identity it remembers (reported with ``skipped: true`` and its file
    id), so only the files that failed or were never attempted are uploaded again; a file changed in
    between has a new identity and is uploaded again. Before skipping, one
    ``GET /agent-files/by-api-key`` checks that the remembered files still exist at raia (a deleted one
    is uploaded again) and reads their current status. With ``"sync"``/``"async"``, an uploaded file
    whose vector-store step failed is only added on the next try, not uploaded again. On Airflow older
    than 3.3 there is no task state store: nothing is remembered and **a retry uploads every file
    again** (raia keeps both copies). On any version, an upload whose answer was lost (a timeout or a
    connection cut after raia stored the file) is not remembered, so the next try uploads it again.

    .. seealso::
        :class:`~raia_provider.hooks.raia.RaiaHook` ``upload_agent_file``, ``list_agent_files``.

    :param paths: the files to upload: a path, a glob pattern, a directory, an ``ObjectStoragePath``,
        or a list of those (templated).
    :param vector_store: how the files are added to the agent's vector store: ``"auto"`` (default, with
        the upload), ``"sync"`` (added after the upload, waiting), ``"async"`` (added after the upload,
        not waiting) or ``"none"``.
    :param follow_symlinks: also read symbolic links that a glob or a folder in ``paths`` yields and
        whose target is outside it. By default they are skipped, logged and listed in the result's
        ``skipped_links`` (a path named explicitly is always read).
    :param raia_conn_id: the ``raia`` connection.
    """

    template_fields: Sequence[str] = ("paths",)
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        paths: PathEntry | Sequence[PathEntry],
        vector_store: VectorStoreMode = "auto",
        follow_symlinks: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(follow_symlinks, bool):
            raise RaiaInputError(f"argument 'follow_symlinks' must be True or False; got {follow_symlinks!r}.")
        if vector_store not in VECTOR_STORE_MODES:
            allowed = ", ".join(repr(mode) for mode in VECTOR_STORE_MODES)
            raise RaiaInputError(f"argument 'vector_store' must be one of {allowed}; got {vector_store!r}.")
        if paths is None or (isinstance(paths, str | list | tuple) and not has_entries(paths)):
            # Only what cannot become valid at run time: a template or an XComArg is checked when rendered.
            raise RaiaInputError("argument 'paths' is required: name at least one file, directory or pattern.")
        self.paths = paths
        self.vector_store: VectorStoreMode = vector_store
        self.follow_symlinks = follow_symlinks

    def execute(self, context: Context) -> dict[str, Any]:
        """Check every path, upload the files not uploaded by an earlier try, and report them.

        :param context: the task's context.
        :raises RaiaInputError: before any request, if ``paths`` names nothing uploadable.
        :raises RaiaPartialFailureError: if some files failed but the others could be uploaded.
        """
        selection = resolve_sources(self.paths, follow_symlinks=self.follow_symlinks)
        sources = selection.files
        for link in selection.skipped_links:
            self.log.warning("Skipped %s: a symbolic link to outside its folder (follow_symlinks=False)", link)
        self.log.info("Uploading %d file(s) to raia (vector_store=%r)", len(sources), self.vector_store)
        memory = TaskMemory(context)
        if not memory.available:
            self.log.info("This Airflow has no task state store: a retry of this task uploads every file again")
        run = _Run(skipped_links=list(selection.skipped_links))
        remembered = self._remembered(sources, memory, run)
        fatal: Exception | None = None
        for index, source in enumerate(sources):
            try:
                self._process(source, remembered.get(_memory_key(source)), memory, run)
            except _FileFailure as failure:
                run.fail(source, failure)
                if not failure.file_specific:
                    fatal = failure.error
                    run.not_attempted = [later.source for later in sources[index + 1 :]]
                    self.log.error(
                        "Stopping at %s: %s is not specific to this file; %d file(s) not attempted",
                        source.source,
                        failure.describe(),
                        len(run.not_attempted),
                    )
                    break
                self.log.warning("Could not upload %s: %s", source.source, failure.describe())
        if fatal is None and self.vector_store in ("sync", "async") and run.succeeded:
            try:
                run.statuses.update(self._statuses())
            except Exception as error:
                self.log.error("Could not read the vector-store statuses back from raia: %s", error)
                fatal = error
        result = run.result()
        if fatal is not None or run.failed:
            context["ti"].xcom_push(key=RESULT_XCOM_KEY, value=result)
        if fatal is not None:
            raise fatal
        if run.failed:
            raise RaiaPartialFailureError(_partial_message(result), succeeded=result["files"], failed=result["failed"])
        self.log.info("raia has %d file(s): %d uploaded, %d skipped", len(result["files"]), run.uploaded, run.skipped)
        return result

    # -- steps ------------------------------------------------------------------------------------------

    def _remembered(self, sources: list[SourceFile], memory: TaskMemory, run: _Run) -> dict[str, _Memo]:
        """What earlier tries uploaded and raia still has; records the current statuses in ``run``."""
        remembered = ((_memory_key(source), _Memo.read(memory.get(_memory_key(source)))) for source in sources)
        memos = {key: memo for key, memo in remembered if memo}
        if not memos:
            return {}
        files = {agent_file.id: agent_file for agent_file in self.hook.list_agent_files()}
        kept: dict[str, _Memo] = {}
        for source in sources:
            memo = memos.get(_memory_key(source))
            if memo is None:
                continue
            if memo.file_id in files:
                kept[_memory_key(source)] = memo
                run.statuses[memo.file_id] = files[memo.file_id].vector_store_upload_status
            else:
                self.log.warning(
                    "%s was uploaded by an earlier try as %s, which raia no longer has: uploading it again",
                    source.source,
                    memo.file_id,
                )
        return kept

    def _process(self, source: SourceFile, memo: _Memo | None, memory: TaskMemory, run: _Run) -> None:
        """Upload one file (unless remembered) and add it to the vector store as asked."""
        if memo is None:
            uploaded = _attempt(_UPLOAD, None, lambda: self._upload(source.part))
            needs_add = self.vector_store in ("sync", "async")
            memo = _Memo(source=source.source, file_id=uploaded.id, file_name=uploaded.file_name, added=not needs_add)
            memory.set(_memory_key(source), memo.dump())  # at once: a retry must not upload it again
            run.statuses[uploaded.id] = uploaded.vector_store_upload_status
            self.log.info("Uploaded %s as %s (%s)", source.source, uploaded.id, uploaded.file_name)
            skipped = False
        else:
            self.log.info("Skipping %s: uploaded by an earlier try as %s", source.source, memo.file_id)
            skipped = True
        if not memo.added and self.vector_store in ("sync", "async"):
            file_id = memo.file_id
            _attempt(_ADD, file_id, lambda: self._add(file_id))
            memo = memo.with_added()
            memory.set(_memory_key(source), memo.dump())
        run.succeed(source, memo, skipped=skipped)

    def _upload(self, part: FilePart) -> AgentFile:
        return self.hook.upload_agent_file(file=part, auto_add_to_vector_store=self.vector_store == "auto")

    def _add(self, file_id: str) -> None:
        if self.vector_store == "sync":
            self.hook.add_file_to_vector_store(file_id=file_id)
        else:
            self.hook.add_file_to_vector_store_async(file_id=file_id)

    def _statuses(self) -> dict[str, Any]:
        return {f.id: f.vector_store_upload_status for f in self.hook.list_agent_files()}


# -- what happened --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Memo:
    """What a try remembers of one uploaded source (stored as JSON in the task state store)."""

    source: str
    file_id: str
    file_name: str
    added: bool

    @classmethod
    def read(cls, value: Any) -> _Memo | None:
        if not isinstance(value, Mapping):
            return None
        try:
            return cls(
                source=str(value["source"]),
                file_id=str(value["file_id"]),
                file_name=str(value["file_name"]),
                added=bool(value["added"]),
            )
        except KeyError:
            return None

    def with_added(self) -> _Memo:
        return _Memo(source=self.source, file_id=self.file_id, file_name=self.file_name, added=True)

    def dump(self) -> dict[str, Any]:
        return {"source": self.source, "file_id": self.file_id, "file_name": self.file_name, "added": self.added}


class _FileFailure(Exception):
    """One file's request failed; says at which stage and whether the other files may still work."""

    def __init__(self, stage: str, file_id: str | None, error: Exception) -> None:
        super().__init__(str(error))
        self.stage = stage
        self.file_id = file_id
        self.error = error
        self.file_specific = is_file_specific(error, vector_store_step=stage == _ADD)

    def describe(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"


def _attempt(stage: str, file_id: str | None, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as error:
        raise _FileFailure(stage, file_id, error) from error


@dataclass
class _Run:
    """The outcome of this try, in the order of the sources."""

    succeeded: list[tuple[SourceFile, _Memo, bool]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)
    statuses: dict[str, Any] = field(default_factory=dict)
    skipped_links: list[str] = field(default_factory=list)

    @property
    def uploaded(self) -> int:
        return sum(1 for _, _, skipped in self.succeeded if not skipped)

    @property
    def skipped(self) -> int:
        return sum(1 for _, _, skipped in self.succeeded if skipped)

    def succeed(self, source: SourceFile, memo: _Memo, *, skipped: bool) -> None:
        self.succeeded.append((source, memo, skipped))

    def fail(self, source: SourceFile, failure: _FileFailure) -> None:
        error = failure.error
        self.failed.append(
            {
                "source": source.source,
                "file_name": source.part.file_name,
                "file_id": failure.file_id,
                "stage": failure.stage,
                "error": failure.describe(),
                "status_code": error.status_code if isinstance(error, RaiaAPIError) else None,
            }
        )

    def result(self) -> dict[str, Any]:
        files = [
            {
                "source": source.source,
                "file_name": memo.file_name,
                "file_id": memo.file_id,
                "vector_store_status": self.statuses.get(memo.file_id),
                "skipped": skipped,
            }
            for source, memo, skipped in self.succeeded
        ]
        return {
            "files": files,
            "uploaded": self.uploaded,
            "skipped": self.skipped,
            "failed": list(self.failed),
            "not_attempted": list(self.not_attempted),
            "skipped_links": list(self.skipped_links),
        }


def _partial_message(result: Mapping[str, Any]) -> str:
    failed, files = result["failed"], result["files"]
    total = len(failed) + len(files)
    failures = _named([f"{item['source']} ({item['stage']}: {item['error']})" for item in failed])
    successes = _named([f"{item['source']} -> {item['file_id']}" for item in files]) or "none"
    return (
        f"{len(failed)} of {total} file(s) could not be put into raia's knowledge base: {failures}. "
        f"Succeeded ({len(files)}): {successes}. A retry uploads only the failed files on Airflow 3.3+; "
        f"the full result is in XCom {RESULT_XCOM_KEY!r}."
    )


def _named(items: list[str]) -> str:
    shown = "; ".join(items[:MAX_NAMED])
    return shown + (f"; ... and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _memory_key(source: SourceFile) -> str:
    return MEMORY_PREFIX + source.identity
