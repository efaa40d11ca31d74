"""Every row of a batch has a key and no two rows share one, checked as the rows stream by, in 8 bytes a row.

A set of every key would hold each key's text, about 100 bytes a row in CPython: 100 MiB at a million rows,
more than the rest of the batch needs. :class:`KeyCheck` keeps a 64-bit fingerprint of each key instead
(``hash()``, which only has to agree with itself within this process), in 256 arrays by its low byte; when
the input has been read, each array is sorted and two equal neighbours are a *possible* repeat. Only then
are the rows read again, remembering just the keys with a repeated fingerprint, to name the two rows exactly
(or to find that two different keys merely shared a fingerprint). Problems are raised in row order, the
first one first, as a check of each row in turn would.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
from typing import Any, Final

from raia_provider.exceptions import RaiaInputError

_BUCKETS: Final = 256


class KeyCheck:
    """Give each row its key and find the first row whose key is missing or repeated.

    :param key_field: the field whose value identifies a row, or ``None`` for the row number (always unique).
    """

    def __init__(self, key_field: str | None) -> None:
        self.key_field = key_field
        self._missing: tuple[int, str] | None = None
        self._buckets = [array("q") for _ in range(_BUCKETS)] if key_field is not None else []

    def see(self, number: int, record: Mapping[str, Any]) -> str | None:
        """Return the row's key, or ``None`` if it has none (remembered, raised by :meth:`raise_first_problem`).

        :param number: the row's number.
        :param record: its fields.
        """
        if self.key_field is None:
            return str(number)
        key = self.key_of(number, record)
        if key is None:
            if self._missing is None:
                self._missing = (
                    number,
                    f"argument 'key_field': row {number} has no value for {self.key_field!r} "
                    f"(its fields: {sorted(record)[:10]}).",
                )
            return None
        fingerprint = hash(key)
        self._buckets[fingerprint % _BUCKETS].append(fingerprint)
        return key

    def key_of(self, number: int, record: Mapping[str, Any]) -> str | None:
        """The row's key, or ``None`` if it has none; remembers nothing.

        :param number: the row's number.
        :param record: its fields.
        """
        if self.key_field is None:
            return str(number)
        value = record.get(self.key_field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return str(value)

    def raise_first_problem(self, keys_again: Callable[[], Iterable[tuple[int, str]]]) -> None:
        """Raise for the first row, in row order, that has no key or repeats an earlier row's key.

        :param keys_again: reads the ``(row number, key)`` of every row with a key again, in order; called
            only when two fingerprints are equal.
        :raises RaiaInputError: naming the row (and the earlier row with the same key).
        """
        before = self._missing[0] if self._missing is not None else None
        repeated = self._repeated_fingerprints()
        if repeated:
            first_seen: dict[str, int] = {}
            for number, key in keys_again():
                if before is not None and number > before:
                    break
                if hash(key) not in repeated:
                    continue
                if key in first_seen:
                    raise RaiaInputError(
                        f"argument 'key_field': rows {first_seen[key]} and {number} share the key {key!r}; "
                        "a key must identify one row (or leave key_field unset to use row numbers)."
                    )
                first_seen[key] = number
        if self._missing is not None:
            raise RaiaInputError(self._missing[1])

    def _repeated_fingerprints(self) -> set[int]:
        repeated: set[int] = set()
        for bucket in self._buckets:
            ordered = sorted(bucket)  # one bucket at a time: a 256th of the rows as Python ints, briefly
            repeated.update(a for a, b in pairwise(ordered) if a == b)
        return repeated
