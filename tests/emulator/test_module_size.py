"""The emulator stays in small modules: none under ``raia_provider/testing`` grows past 400 lines.

A module that outgrows this has more than one job; split it along the resource layout described in
``raia_provider/testing/emulator/resources/__init__.py`` (store, wire, routes) rather than raising the limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import raia_provider.testing

MAX_LINES = 400
PACKAGE = Path(raia_provider.testing.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_modules() -> None:
    assert len(MODULES) > 10


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_module_is_at_most_400_lines(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.relative_to(PACKAGE)} has {lines} lines (at most {MAX_LINES})"
