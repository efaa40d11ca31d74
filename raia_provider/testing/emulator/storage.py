"""How every resource keeps its records: tables, one set per agent, behind the emulator's one lock.

Each resource's store (see :mod:`.resources`) declares its tables here and gets, written once:

* **isolation**: a :class:`PerAgent` partition gives each agent its own table, so an agent can never reach
  another's records; an id it does not own is simply unknown;
* **lookups**: :meth:`Table.get` and :meth:`Table.pop` raise :class:`NotFound` (answered 404
  ``ENTITY_NOT_FOUND``) for an unknown key; a store raises :class:`Refused` (a 400 with that message) for a
  request raia turns down;
* **time, order and knobs**: the context carries the clocks and the knobs in force, and
  :meth:`StoreContext.stamp` gives a record its wall-clock creation time and a creation counter that breaks
  ties between equal times;
* **reset**: every table a store declares is emptied by :meth:`StoreContext.reset`.

Records are frozen dataclasses: a change replaces the record, so what a store returns is a snapshot. Every
store method takes the lock; it is re-entrant, so a store may call another store's methods while holding it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from raia_provider.testing.emulator.config import EmulatorConfig

V = TypeVar("V")
D = TypeVar("D")


class NotFound(KeyError):
    """An id the calling agent does not own (answered 404 ``ENTITY_NOT_FOUND``)."""


class Refused(ValueError):
    """A request raia refuses with a 400 carrying this message (e.g. "User already exists.")."""


def hex_id(prefix: str, length: int = 24) -> str:
    """Return an OpenAI-style id: ``prefix`` and ``length`` random hex digits (``file-3f2a…``).

    :param prefix: the id's prefix, e.g. ``conv_``.
    :param length: how many hex digits follow it.
    """
    return f"{prefix}{uuid.uuid4().hex[:length]}"


class Table(Generic[V]):
    """Records of one kind, by key, in insertion order (a replaced record keeps its place).

    :param key: returns a record's key (usually its ``id``).
    """

    def __init__(self, key: Callable[[V], Hashable]) -> None:
        self._key = key
        self._rows: dict[Hashable, V] = {}

    def get(self, key: Hashable) -> V:
        """Return the record stored under ``key``.

        :param key: the record's key.
        :raises NotFound: if there is none.
        """
        row = self._rows.get(key)
        if row is None:
            raise NotFound(key)
        return row

    def find(self, key: Hashable) -> V | None:
        """Return the record stored under ``key``, ``None`` if there is none.

        :param key: the record's key.
        """
        return self._rows.get(key)

    def save(self, row: V) -> V:
        """Store ``row`` under its key, replacing the record there; return it.

        :param row: the record.
        """
        self._rows[self._key(row)] = row
        return row

    def pop(self, key: Hashable) -> V:
        """Remove and return the record stored under ``key``.

        :param key: the record's key.
        :raises NotFound: if there is none.
        """
        row = self._rows.pop(key, None)
        if row is None:
            raise NotFound(key)
        return row

    def discard(self, key: Hashable) -> bool:
        """Remove the record stored under ``key`` if there is one; tell whether there was.

        :param key: the record's key.
        """
        return self._rows.pop(key, None) is not None

    def rows(self) -> list[V]:
        """Every record, in insertion order."""
        return list(self._rows.values())

    def where(self, keep: Callable[[V], bool]) -> list[V]:
        """The records ``keep`` accepts, in insertion order.

        :param keep: the filter.
        """
        return [row for row in self._rows.values() if keep(row)]

    def drop_where(self, doomed: Callable[[V], bool]) -> None:
        """Remove every record ``doomed`` accepts.

        :param doomed: the records to drop.
        """
        self._rows = {key: row for key, row in self._rows.items() if not doomed(row)}

    def __contains__(self, key: Hashable) -> bool:
        return key in self._rows

    def clear(self) -> None:
        """Remove every record."""
        self._rows.clear()


class PerAgent(Generic[D]):
    """One ``D`` per agent, made on first use.

    :param make: makes an agent's empty ``D`` (a table, a list, seeded records).
    """

    def __init__(self, make: Callable[[], D]) -> None:
        self._make = make
        self._by_agent: dict[str, D] = {}

    def of(self, agent_id: str) -> D:
        """Return the agent's own ``D``.

        :param agent_id: the agent.
        """
        data = self._by_agent.get(agent_id)
        if data is None:
            data = self._by_agent[agent_id] = self._make()
        return data

    def items(self) -> list[tuple[str, D]]:
        """Every agent's id and ``D`` made so far (for control operations that act on any agent's record)."""
        return list(self._by_agent.items())

    def clear(self) -> None:
        """Forget every agent's ``D``."""
        self._by_agent.clear()


class _Clearable(Protocol):
    def clear(self) -> None: ...


class StoreContext:
    """What every store shares: the emulator's lock, its clocks and knobs, the creation counter and the tables.

    :param lock: the emulator's lock (re-entrant).
    :param clock: monotonic clock, in seconds (delays: ``due_at``).
    :param wall_clock: epoch-seconds clock (``createdAt`` and friends).
    :param config: the knobs in force (replaced, never changed in place, by ``configure()``).
    """

    def __init__(
        self,
        lock: threading.RLock,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        config: EmulatorConfig,
    ) -> None:
        self.lock = lock
        self.clock = clock
        self.wall_clock = wall_clock
        self.config = config
        self._seq = 0
        self._tables: list[_Clearable] = []

    def table(self, key: Callable[[V], Hashable]) -> Table[V]:
        """Declare a table shared by every agent (a store checks ownership itself); emptied on reset.

        :param key: returns a record's key.
        """
        table: Table[V] = Table(key)
        self._tables.append(table)
        return table

    def per_agent(self, make: Callable[[], D]) -> PerAgent[D]:
        """Declare a partition: one ``D`` per agent; forgotten on reset.

        :param make: makes an agent's empty ``D``.
        """
        partition = PerAgent(make)
        self._tables.append(partition)
        return partition

    def stamp(self) -> tuple[float, int]:
        """Return the wall-clock time and the next creation counter, for a new record."""
        with self.lock:
            self._seq += 1
            return self.wall_clock(), self._seq

    def reset(self) -> None:
        """Empty every declared table and restart the creation counter."""
        with self.lock:
            for table in self._tables:
                table.clear()
            self._seq = 0


class Store:
    """Base of every resource store: holds the shared :class:`StoreContext`.

    A store that builds on others (conversations on users and usage) subclasses them; every store's
    ``__init__`` takes the context and passes it on with ``super().__init__(context)``, so one object holds
    each table once however the stores are combined.

    :param context: the shared context.
    """

    def __init__(self, context: StoreContext) -> None:
        self._context = context
        self._lock = context.lock

    def _now(self) -> float:
        """The monotonic clock (delays)."""
        return self._context.clock()

    def _wall_now(self) -> float:
        """The epoch-seconds clock (``createdAt`` and friends)."""
        return self._context.wall_clock()
