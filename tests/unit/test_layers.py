"""The package's layers only import downwards.

From the bottom: ``exceptions`` and ``models``; ``_core`` (client internals) and ``operations``; ``hooks``;
``engines`` (job engines that drive the hook); ``operators``, ``sensors`` and ``triggers``. Every import counts,
including those inside functions and under ``TYPE_CHECKING``: an arrow back up a layer is how a cycle starts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "raia_provider"

UPPER_LAYERS = ("operators", "sensors", "triggers")

#: For each part of the package, the parts it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "exceptions.py": ("_core", "operations", "hooks", "engines", *UPPER_LAYERS),
    "models": ("_core", "operations", "hooks", "engines", *UPPER_LAYERS),
    "_core": ("hooks", "engines", *UPPER_LAYERS),
    "operations": ("hooks", "engines", *UPPER_LAYERS),
    "hooks": ("engines", *UPPER_LAYERS),
    "engines": UPPER_LAYERS,
}


def imported_parts(source: Path) -> set[str]:
    """The parts of ``raia_provider`` that ``source`` imports (``raia_provider.hooks.raia`` is ``hooks``)."""
    parts: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "raia_provider":
                names = [f"raia_provider.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            dotted = name.split(".")
            if dotted[0] == "raia_provider" and len(dotted) > 1:
                parts.add(dotted[1])
    return parts


def modules_of(part: str) -> list[Path]:
    path = PACKAGE / part
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(part: str) -> None:
    modules = modules_of(part)
    assert modules, f"raia_provider/{part} holds no module: the layer list is out of date"
    arrows_up = {
        str(module.relative_to(PACKAGE)): sorted(imported_parts(module) & set(FORBIDDEN[part])) for module in modules
    }
    assert {module: parts for module, parts in arrows_up.items() if parts} == {}


def test_the_import_scan_sees_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import raia_provider.operators.prompt\n"
        "from raia_provider import engines\n"
        "if TYPE_CHECKING:\n"
        "    from raia_provider.hooks.raia import RaiaHook\n"
        "def later():\n"
        "    from raia_provider.sensors.raia import RaiaPromptSensor\n",
        encoding="utf-8",
    )
    assert imported_parts(module) == {"operators", "engines", "hooks", "sensors"}


def test_no_engine_is_left_below_the_hook() -> None:
    """The modules that drive the hook live in ``engines``; ``_core`` keeps only what the hook is built from."""
    engine_words = ("batch", "knowledge", "polling", "task_memory")
    misplaced = [path.name for path in modules_of("_core") if path.stem.startswith(engine_words)]
    assert misplaced == []
