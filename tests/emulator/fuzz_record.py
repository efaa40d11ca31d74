"""What a schemathesis fuzz run actually sent, so a run that generated nothing fails instead of passing.

A fuzz test is one pytest item per operation (``test_fuzz_current_spec[POST /external/prompts]``); hypothesis
calls it once per generated case. Each call records the status it got here; a check declared after the fuzz
tests then asserts that every fuzz item the session selected produced at least one case.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

_ITEM = re.compile(r"^(?P<test>\w+)\[(?P<method>[A-Z]+) (?P<path>\S+)\]$")

#: A fuzz test's name, an HTTP method and a path.
Operation = tuple[str, str, str]


class FuzzRecord:
    """Statuses the fuzz got, per fuzz test and operation."""

    def __init__(self) -> None:
        self.seen: defaultdict[Operation, set[int]] = defaultdict(set)

    def record(self, test: str, method: str, path: str, status: int) -> None:
        """Note that ``test`` sent a case to ``method path`` and got ``status``."""
        self.seen[(test, method.upper(), path)].add(status)

    def statuses(self, test: str) -> dict[tuple[str, str], set[int]]:
        """The statuses ``test`` saw, per (method, path)."""
        return {(method, path): codes for (name, method, path), codes in self.seen.items() if name == test}

    def assert_every_selected_operation_ran(self, session: pytest.Session, tests: set[str]) -> set[Operation]:
        """Fail if a fuzz item of ``tests`` that the session selected sent no case; skip if none was selected.

        :param session: the pytest session (its ``items`` are what was selected).
        :param tests: the fuzz tests' names.
        :return: the selected (test, method, path).
        """
        selected: set[Operation] = set()
        for item in session.items:
            match = _ITEM.match(item.name)
            if match and match["test"] in tests:
                selected.add((match["test"], match["method"], match["path"]))
        if not selected:
            pytest.skip(f"none of {sorted(tests)} was selected in this session: nothing to check")
        silent = sorted(selected - set(self.seen))
        assert silent == [], f"{len(silent)} fuzzed operations produced no case at all: {silent}"
        return selected
