"""Where a batch keeps the answers it has received, so that a retry or a crash loses none and repeats none.

A checkpoint is a folder next to the output (``<output>.checkpoint/``), local or in object storage. Answers
are appended to it in *parts*: small JSONL files, each written whole once and never changed (a local part is
written under a temporary name and renamed; an object-storage write is atomic by itself), so a crash leaves
either a complete part or none. Each line is one row's outcome::

    {"key": "42", "prompt_sha": "<sha256 of the rendered prompt>", "status": "completed", "response": "...",
     "total_tokens": 12, "error": null, "prompt_id": null}

Reading a checkpoint takes, per key, the lines whose ``prompt_sha`` matches the prompt the row asks now, so
an answer is reused only for the very same question: a ``completed`` answer is reused; a ``submitted`` line
(an async prompt sent, not answered yet) lets a retry wait for that prompt instead of asking again; a row
whose latest line is ``failed`` is asked again. A line cut short by a crash is skipped.

A rerun does not load the answers themselves: :meth:`Checkpoint.saved` indexes which line counts for each
key and prompt (fingerprints and an offset, about 150 bytes a saved row), and the batch reads a line back
from its part when that row's turn comes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Final

from raia_provider.engines.whole_files import write_whole

log = logging.getLogger(__name__)

CHECKPOINT_SUFFIX = ".checkpoint"
_PART_PREFIX = "part-"
_PART_SUFFIX = ".jsonl"
#: An index entry packs a fingerprint of the prompt digest, whether the line is ``completed``, and where the
#: line is (part number, byte offset) into one int.
_OFFSET_BITS: Final = 40
_PART_BITS: Final = 24
_COMPLETED: Final = 1 << (_OFFSET_BITS + _PART_BITS)
_FINGERPRINT_SHIFT: Final = _OFFSET_BITS + _PART_BITS + 1
#: Parts kept open while a rerun reads answers back (they are read in roughly the order they were written).
_OPEN_PARTS: Final = 4


def checkpoint_for(output: Any) -> Any:
    """The default checkpoint folder of an output file: its sibling ``<name>.checkpoint``.

    :param output: the output file (``Path`` or ``ObjectStoragePath``).
    """
    return output.parent / (output.name + CHECKPOINT_SUFFIX)


class SavedAnswers:
    """Which checkpoint line counts for each row key and prompt digest, and reading it back; see the module docs.

    :param parts: the checkpoint's parts, in the order they were written.
    """

    def __init__(self, parts: list[Any]) -> None:
        self._parts = parts
        self._index: dict[str, int | tuple[int, ...]] = {}
        self._open: OrderedDict[int, IO[bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._index)

    def add(self, key: str, prompt_sha: str, completed: bool, part: int, offset: int) -> None:
        """Index one line: a ``completed`` one is kept once indexed; otherwise the latest line wins.

        :param key: the row's key.
        :param prompt_sha: the digest of the prompt it answers.
        :param completed: whether its status is ``completed``.
        :param part: the part's position in ``parts``.
        :param offset: the line's byte offset in that part.
        """
        if part >= 1 << _PART_BITS or offset >= 1 << _OFFSET_BITS:
            raise ValueError(f"checkpoint part {part} at offset {offset} is beyond what the index can address")
        fingerprint = _fingerprint(prompt_sha)
        entry = (fingerprint << _FINGERPRINT_SHIFT) | (_COMPLETED if completed else 0) | (part << _OFFSET_BITS) | offset
        earlier = self._index.get(key)
        if earlier is None:
            self._index[key] = entry
            return
        entries = list(earlier) if isinstance(earlier, tuple) else [earlier]
        for position, existing in enumerate(entries):
            if existing >> _FINGERPRINT_SHIFT == fingerprint:
                if not existing & _COMPLETED:
                    entries[position] = entry
                break
        else:
            entries.append(entry)  # the same key asked with another prompt (the template changed between tries)
        self._index[key] = entries[0] if len(entries) == 1 else tuple(entries)

    def answered(self, key: str, prompt_sha: str) -> bool:
        """Whether ``key`` has a ``completed`` answer for this prompt (from the index alone, no read).

        :param key: the row's key.
        :param prompt_sha: the digest of the prompt it asks now.
        """
        entry = self._entry(key, prompt_sha)
        return entry is not None and bool(entry & _COMPLETED)

    def line(self, key: str, prompt_sha: str) -> dict[str, Any] | None:
        """Read back the line that counts for ``key`` and this prompt, or ``None`` if there is none.

        :param key: the row's key.
        :param prompt_sha: the digest of the prompt it asks now.
        """
        entry = self._entry(key, prompt_sha)
        if entry is None:
            return None
        handle = self._handle((entry >> _OFFSET_BITS) & ((1 << _PART_BITS) - 1))
        handle.seek(entry & ((1 << _OFFSET_BITS) - 1))
        outcome = json.loads(handle.readline())
        # The fingerprint picked the line; the digest itself decides (two digests may share a fingerprint).
        return outcome if outcome.get("key") == key and outcome.get("prompt_sha") == prompt_sha else None

    def close(self) -> None:
        """Close the parts opened to read answers back."""
        while self._open:
            self._open.popitem()[1].close()

    def _entry(self, key: str, prompt_sha: str) -> int | None:
        found = self._index.get(key)
        if found is None:
            return None
        fingerprint = _fingerprint(prompt_sha)
        for entry in found if isinstance(found, tuple) else (found,):
            if entry >> _FINGERPRINT_SHIFT == fingerprint:
                return entry
        return None

    def _handle(self, part: int) -> IO[bytes]:
        handle = self._open.get(part)
        if handle is not None:
            self._open.move_to_end(part)
            return handle
        if len(self._open) >= _OPEN_PARTS:
            self._open.popitem(last=False)[1].close()
        opened: IO[bytes] = self._parts[part].open("rb")
        self._open[part] = opened
        return opened


class Checkpoint:
    """The parts folder of one batch's output.

    :param folder: the folder (``Path`` or ``ObjectStoragePath``); created at the first write.
    """

    def __init__(self, folder: Any) -> None:
        self.folder = folder

    def saved(self) -> SavedAnswers:
        """Index every line of every part (see :class:`SavedAnswers`); a part cut short keeps its complete lines."""
        parts = self._parts()
        saved = SavedAnswers(parts)
        for number, part in enumerate(parts):
            for offset, line in _lines(part):
                try:
                    outcome = json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError):  # cut inside a character, or inside the JSON
                    log.warning("Skipping a line cut short in checkpoint part %s", part)
                    continue
                if not isinstance(outcome, dict):
                    continue
                key, sha = outcome.get("key"), outcome.get("prompt_sha")
                if isinstance(key, str) and isinstance(sha, str):
                    saved.add(key, sha, outcome.get("status") == "completed", number, offset)
        return saved

    def load(self, prompt_shas: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Return, for each row key, the outcome that counts for the prompt it asks now (all in memory).

        A ``completed`` answer is kept once read; otherwise the latest line wins (parts are read in the order
        they were written). For small checkpoints and tests; the batch reads lines back one by one.

        :param prompt_shas: row key to the digest of the prompt that row asks in this run.
        """
        saved = self.saved()
        try:
            return {key: line for key, sha in prompt_shas.items() if (line := saved.line(key, sha)) is not None}
        finally:
            saved.close()

    def append(self, outcomes: Iterable[dict[str, Any]]) -> None:
        """Write ``outcomes`` as one new part.

        :param outcomes: the checkpoint lines (see the module docs).
        """
        text = "".join(json.dumps(outcome, ensure_ascii=False) + "\n" for outcome in outcomes)
        if not text:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # Unique across workers and retries; sortable by time of writing.
        name = f"{_PART_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:12]}{_PART_SUFFIX}"
        write_whole(self.folder / name, text)

    def discard(self) -> None:
        """Delete the checkpoint (after the output has been written whole)."""
        if not self.folder.exists():
            return
        for part in self._parts():
            part.unlink()
        try:
            self.folder.rmdir()
        except OSError as error:  # something else lives there: leave it, the answers are in the output now
            log.info("Left checkpoint folder %s in place: %s", self.folder, error)

    def _parts(self) -> list[Any]:
        if not self.folder.exists():
            return []
        parts = [p for p in self.folder.iterdir() if p.name.startswith(_PART_PREFIX) and p.name.endswith(_PART_SUFFIX)]
        return sorted(parts, key=lambda p: str(p.name))


def _lines(part: Any) -> Iterator[tuple[int, bytes]]:
    # Bytes, decoded line by line (json.loads takes UTF-8 bytes): a crash that cut a line inside a multi-byte
    # character spoils that line only, not the whole part. Offsets let a rerun read the line back later.
    offset = 0
    with part.open("rb") as handle:
        for line in iter(handle.readline, b""):  # the file wrapper of Airflow 3.1's ObjectStoragePath is not iterable
            if line.strip():
                yield offset, line
            offset += len(line)


def _fingerprint(prompt_sha: str) -> int:
    # 64 bits of Python's hash, which only has to agree with itself within this process.
    return hash(prompt_sha) & 0xFFFF_FFFF_FFFF_FFFF


class CheckpointWriter:
    """Buffer outcomes as they arrive and write them to the checkpoint every ``interval`` seconds.

    Writing happens in a thread, so a slow object store never stalls the requests in flight. What is
    buffered is at most ``interval`` seconds of answers: the batch's memory does not grow with its rows.

    :param checkpoint: where to write.
    :param interval: seconds between writes; what a hard crash can lose at most (those rows are asked again).
    """

    def __init__(self, checkpoint: Checkpoint, interval: float) -> None:
        self.checkpoint = checkpoint
        self.interval = interval
        self._pending: list[dict[str, Any]] = []
        self._lock: asyncio.Lock | None = None

    def add(self, outcome: dict[str, Any]) -> None:
        """Queue ``outcome`` for the next write.

        :param outcome: one checkpoint line.
        """
        self._pending.append(outcome)

    async def flush(self) -> None:
        """Write what is queued as one part (one write at a time)."""
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            batch, self._pending = self._pending, []
            if batch:
                await asyncio.to_thread(self.checkpoint.append, batch)

    async def every_interval(self, after_write: Callable[[], None] | None = None) -> None:
        """Flush every ``interval`` seconds until cancelled.

        :param after_write: called after each flush (progress logging).
        """
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()
            if after_write is not None:
                after_write()
