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
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHECKPOINT_SUFFIX = ".checkpoint"
_PART_PREFIX = "part-"
_PART_SUFFIX = ".jsonl"


def checkpoint_for(output: Any) -> Any:
    """The default checkpoint folder of an output file: its sibling ``<name>.checkpoint``.

    :param output: the output file (``Path`` or ``ObjectStoragePath``).
    """
    return output.parent / (output.name + CHECKPOINT_SUFFIX)


class Checkpoint:
    """The parts folder of one batch's output.

    :param folder: the folder (``Path`` or ``ObjectStoragePath``); created at the first write.
    """

    def __init__(self, folder: Any) -> None:
        self.folder = folder

    def load(self, prompt_shas: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Return, for each row key, the outcome that counts for the prompt it asks now.

        A ``completed`` answer is kept once read; otherwise the latest line wins (parts are read in the order
        they were written). A part cut short by a crash is read line by line: its complete lines still count.

        :param prompt_shas: row key to the digest of the prompt that row asks in this run.
        """
        outcomes: dict[str, dict[str, Any]] = {}
        for part in self._parts():
            for line in _lines(part):
                try:
                    outcome = json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError):  # cut inside a character, or inside the JSON
                    log.warning("Skipping a line cut short in checkpoint part %s", part)
                    continue
                key = outcome.get("key") if isinstance(outcome, dict) else None
                if not isinstance(key, str) or prompt_shas.get(key) != outcome.get("prompt_sha"):
                    continue
                if outcomes.get(key, {}).get("status") != "completed":
                    outcomes[key] = outcome
        return outcomes

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


def _lines(part: Any) -> list[bytes]:
    # Bytes, decoded line by line (json.loads takes UTF-8 bytes): a crash that cut a line inside a multi-byte
    # character spoils that line only, not the whole part.
    with part.open("rb") as handle:
        return [line for line in handle.read().splitlines() if line.strip()]


def write_whole(target: Any, text: str) -> None:
    """Write ``text`` to ``target`` so that a reader sees all of it or nothing.

    A local file is written under a temporary name and renamed over the target; an object-storage write
    (one PUT) is already all-or-nothing.

    :param target: a ``Path`` or an ``ObjectStoragePath``.
    :param text: the whole content.
    """
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        handle.write(text)


class CheckpointWriter:
    """Buffer outcomes as they arrive and write them to the checkpoint every ``interval`` seconds.

    Writing happens in a thread, so a slow object store never stalls the requests in flight.

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
