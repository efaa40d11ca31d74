"""Plan a knowledge sync: which documents to upload, which agent files to keep and which to remove.

A pure function of three inputs (the source documents with their content hashes, the files raia lists, the
manifest), so the same inputs always give the same plan, and a plan can be logged before anything changes.

For each document (raia names a file by its base name):

* a file of that name whose recorded hash equals the document's, and whose vector-store status is ``done`` or
  ``processing``, is **kept** (the best one, if a crash left several); every other file of that name is
  *superseded*: removed once the kept one is ``done``;
* otherwise the document is **uploaded**: an *add* when raia has no file of that name, a *replace* when it
  has; the old files of that name are superseded by the upload.

A file whose name no document has is **removed**. Only these removals count towards ``max_delete_ratio``:
a superseded file is replaced by a newer copy of the same document, so no knowledge is lost with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from raia_provider.engines.knowledge_manifest import Manifest, ManifestEntry
from raia_provider.engines.knowledge_source import SourceDocument
from raia_provider.models.files import AgentFile

#: The vector-store statuses of a copy worth keeping: searchable, or about to be.
_USABLE = ("done", "processing")


@dataclass(frozen=True)
class HashedDocument:
    """A source document and the SHA-256 of its content.

    :param document: the document.
    :param sha256: its content hash.
    """

    document: SourceDocument
    sha256: str

    def entry(self) -> ManifestEntry:
        """How the manifest records this document once uploaded."""
        document = self.document
        return ManifestEntry(document.name, self.sha256, document.size, document.location, document.version)


@dataclass(frozen=True)
class Upload:
    """A document to upload.

    :param source: the document.
    :param superseded: raia's files of the same name, removed once the upload is in the vector store.
    """

    source: HashedDocument
    superseded: tuple[AgentFile, ...] = ()

    @property
    def action(self) -> str:
        """``add`` or ``replace``."""
        return "replace" if self.superseded else "add"


@dataclass(frozen=True)
class Keep:
    """A document raia already holds with the same content.

    :param source: the document.
    :param agent_file: raia's copy of it.
    :param superseded: other files of the same name (older versions, or duplicates a crash left).
    """

    source: HashedDocument
    agent_file: AgentFile
    superseded: tuple[AgentFile, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What a sync will do.

    :param uploads: documents to upload, in source order.
    :param keeps: documents raia already holds, in source order.
    :param removals: files whose name no document has.
    :param adopted: files a killed run uploaded but did not record, with what they hold (see the manifest).
    :param agent_files: how many files raia listed.
    """

    uploads: list[Upload] = field(default_factory=list)
    keeps: list[Keep] = field(default_factory=list)
    removals: list[AgentFile] = field(default_factory=list)
    adopted: dict[str, ManifestEntry] = field(default_factory=dict)
    agent_files: int = 0

    @property
    def adds(self) -> list[Upload]:
        """The uploads of documents raia has no file of that name for."""
        return [upload for upload in self.uploads if upload.action == "add"]

    @property
    def replaces(self) -> list[Upload]:
        """The uploads that supersede an older file of the same name."""
        return [upload for upload in self.uploads if upload.action == "replace"]

    @property
    def delete_ratio(self) -> float:
        """The share of raia's files that would be removed because their document is gone."""
        return len(self.removals) / self.agent_files if self.agent_files else 0.0

    @property
    def changes_anything(self) -> bool:
        """Whether applying the plan sends any upload or delete."""
        return bool(self.uploads or self.removals or any(keep.superseded for keep in self.keeps))


def plan_sync(documents: Sequence[HashedDocument], agent_files: Sequence[AgentFile], manifest: Manifest) -> Plan:
    """Compare the source with raia's files (see the module docs).

    :param documents: the source documents with their hashes; names are unique.
    :param agent_files: what ``GET /agent-files/by-api-key`` lists.
    :param manifest: the sync's manifest for this agent.
    """
    adopted = _adopted(agent_files, manifest)
    hashes = {file_id: entry.sha256 for file_id, entry in {**manifest.files, **adopted}.items()}
    by_name: dict[str, list[AgentFile]] = {}
    for agent_file in agent_files:
        by_name.setdefault(agent_file.file_name, []).append(agent_file)
    plan = Plan(adopted=adopted, agent_files=len(agent_files))
    for source in documents:
        copies = by_name.pop(source.document.name, [])
        usable = [
            copy
            for copy in copies
            if hashes.get(copy.id) == source.sha256 and copy.vector_store_upload_status in _USABLE
        ]
        if usable:
            best = max(usable, key=_preference)
            superseded = tuple(copy for copy in copies if copy.id != best.id)
            plan.keeps.append(Keep(source, best, superseded))
        else:
            plan.uploads.append(Upload(source, tuple(copies)))
    plan.removals.extend(agent_file for files in by_name.values() for agent_file in files)
    return plan


def _adopted(agent_files: Sequence[AgentFile], manifest: Manifest) -> dict[str, ManifestEntry]:
    """Files a killed run uploaded: absent when it saved ``pending``, named like a pending upload."""
    if not manifest.pending:
        return {}
    seen = set(manifest.seen)
    return {
        agent_file.id: manifest.pending[agent_file.file_name]
        for agent_file in agent_files
        if agent_file.id not in manifest.files
        and agent_file.id not in seen
        and agent_file.file_name in manifest.pending
    }


def _preference(agent_file: AgentFile) -> tuple[bool, str]:
    # A searchable copy first, then the newest (ISO 8601 timestamps of one service sort as text).
    return (agent_file.vector_store_upload_status == "done", agent_file.created_at)
