"""What a knowledge sync knows of the agent's files: the content hash of each file it uploaded.

raia keeps no metadata with an agent file (only id, name, url, dates and vector-store status), so the
content hash that tells an edited document from an unchanged one is kept here, in a manifest the sync owns,
stored as JSON in an Airflow Variable. Each entry also records where the document came from and its size
and version (modification time or ETag), so an unchanged document is recognised without being read again.

``pending`` is what makes a killed run resumable without duplicates: before the first upload, the names
and hashes about to be uploaded are saved together with the ids raia held at that moment (``seen``). A
later run that finds a file raia did not hold then, under a pending name, knows it is that upload (raia
stored it, the run died before recording it) and adopts it instead of uploading the document again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: Bumped when the stored shape changes; a manifest of another version is not trusted.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ManifestEntry:
    """One document as uploaded.

    :param name: the file name at raia.
    :param sha256: the SHA-256 of its content.
    :param size: its size in bytes.
    :param location: where the document was read from.
    :param source_version: its modification time or ETag then, or ``None`` if the storage reports none.
    """

    name: str
    sha256: str
    size: int
    location: str
    source_version: str | None

    @classmethod
    def read(cls, value: Any) -> ManifestEntry | None:
        """Parse one stored entry; ``None`` if it is not one (a hand-edited or foreign value).

        :param value: the stored JSON value.
        """
        if not isinstance(value, Mapping):
            return None
        try:
            version = value.get("source_version")
            return cls(
                name=str(value["name"]),
                sha256=str(value["sha256"]),
                size=int(value["size"]),
                location=str(value["location"]),
                source_version=None if version is None else str(version),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class Manifest:
    """The sync's record of one agent's knowledge.

    :param agent_id: the agent it describes; a manifest of another agent is ignored.
    :param files: raia file id to the document uploaded as that file.
    :param pending: file name to the document a run was about to upload (see the module docs).
    :param seen: the file ids raia held when ``pending`` was saved.
    """

    agent_id: str | None = None
    files: dict[str, ManifestEntry] = field(default_factory=dict)
    pending: dict[str, ManifestEntry] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str | None, *, where: str) -> Manifest:
        """Read a stored manifest; an absent, unreadable or foreign one is an empty manifest.

        An empty manifest is always safe: every file raia holds is then of unknown content, so each
        document is uploaded again once and the old copies are removed.

        :param text: the stored JSON, or ``None``.
        :param where: where it was read from, for the warning.
        """
        if text is None:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION:
            log.warning("The manifest in %s is not one this provider wrote; starting from an empty one", where)
            return cls()
        return cls(
            agent_id=data.get("agent_id") if isinstance(data.get("agent_id"), str) else None,
            files=_entries(data.get("files")),
            pending=_entries(data.get("pending")),
            seen=[str(item) for item in data.get("seen") or [] if isinstance(item, str)],
        )

    def dump(self) -> str:
        """The manifest as stored: compact JSON."""
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "agent_id": self.agent_id,
                "files": {file_id: asdict(entry) for file_id, entry in sorted(self.files.items())},
                "pending": {name: asdict(entry) for name, entry in sorted(self.pending.items())},
                "seen": sorted(self.seen),
            },
            separators=(",", ":"),
        )

    def for_agent(self, agent_id: str, *, where: str) -> Manifest:
        """This manifest if it describes ``agent_id``; else (the connection now holds another agent's key) an empty one.

        :param agent_id: the agent the connection's key belongs to.
        :param where: where it was read from, for the warning.
        """
        if self.agent_id in (None, agent_id):
            self.agent_id = agent_id
            return self
        log.warning(
            "The manifest in %s describes agent %s, but the connection's key is agent %s's: starting from an empty one",
            where,
            self.agent_id,
            agent_id,
        )
        return Manifest(agent_id=agent_id)

    def known_hash(self, location: str, size: int, version: str | None) -> str | None:
        """The recorded hash of a document that has not changed since it was recorded, else ``None``.

        :param location: where the document is.
        :param size: its size now.
        :param version: its modification time or ETag now; ``None`` never matches (it could have changed).
        """
        if version is None:
            return None
        for entry in (*self.files.values(), *self.pending.values()):
            if (entry.location, entry.size, entry.source_version) == (location, size, version):
                return entry.sha256
        return None


def _entries(value: Any) -> dict[str, ManifestEntry]:
    if not isinstance(value, Mapping):
        return {}
    entries = ((str(key), ManifestEntry.read(item)) for key, item in value.items())
    return {key: entry for key, entry in entries if entry is not None}


class VariableManifestStore:
    """Keeps a manifest as JSON in an Airflow Variable (the metadata database, reachable from every worker).

    :param key: the Variable's key.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    @property
    def where(self) -> str:
        """Where the manifest lives, for messages."""
        return f"Airflow Variable {self.key!r}"

    def load(self) -> Manifest:
        """Read the manifest; an empty one if the Variable does not exist yet."""
        from airflow.sdk import Variable

        return Manifest.parse(Variable.get(self.key, default=None), where=self.where)

    def save(self, manifest: Manifest) -> None:
        """Write the manifest (replacing the Variable's value).

        :param manifest: the manifest to store.
        """
        from airflow.sdk import Variable

        Variable.set(
            self.key,
            manifest.dump(),
            description="raia knowledge sync: content hash of each agent file (kept by RaiaSyncKnowledgeOperator)",
        )
