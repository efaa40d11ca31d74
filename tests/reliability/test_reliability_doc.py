"""``docs/reliability.md`` and the fault-matrix tests describe the same cells.

Every column module (``test_faults_*.py``) has a section in the doc headed by its ``COLUMN.name``, whose
table lists every fault row in the matrix's order; a row the column marks not applicable reads ``n/a``
with the reason, every other row describes what the tests assert.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.reliability.fault_matrix import ROWS, Column, covered_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
MODULES = sorted(path.stem for path in Path(__file__).parent.glob("test_faults_*.py"))


def column_of(module: str) -> Column:
    column = importlib.import_module(f"tests.reliability.{module}").COLUMN
    assert isinstance(column, Column)
    return column


def table_under(heading: str, text: str) -> list[list[str]]:
    """The body rows of the first table after ``### heading``, as lists of stripped cells."""
    match = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^#|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/reliability.md has no section '### {heading}'"
    lines = [line for line in match.group(1).splitlines() if line.startswith("|")]
    assert len(lines) > 2, f"the section '{heading}' has no table"
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


@pytest.mark.parametrize("module", MODULES)
def test_every_applicable_cell_has_a_test(module: str) -> None:
    column = column_of(module)
    tests = covered_rows(importlib.import_module(f"tests.reliability.{module}"))

    assert tests == {row.id for row in column.applicable}, f"{column.name}: rows tested and applicable differ"


def test_every_column_module_is_found() -> None:
    assert len(MODULES) >= 9, MODULES


@pytest.mark.parametrize("module", MODULES)
def test_the_doc_has_one_row_per_fault_for_the_column(module: str) -> None:
    column = column_of(module)
    table = table_under(column.name, DOC.read_text("utf-8"))

    assert [cells[0] for cells in table] == [row.title for row in ROWS]
    for row, cells in zip(ROWS, table, strict=True):
        assert len(cells) == 5, f"{column.name} / {row.title}: expected 5 cells, got {cells}"
        if row.id in column.not_applicable:
            assert cells[1].startswith("n/a"), f"{column.name} / {row.title} is not tested: the doc must say n/a"
        else:
            assert not cells[1].startswith("n/a"), f"{column.name} / {row.title} is tested: the doc says n/a"
            assert all(cells[1:]), f"{column.name} / {row.title}: empty cell"


def test_the_totals_are_the_matrix_and_catalogue_as_tested() -> None:
    from tests.reliability.test_bad_input import CASES

    columns = [column_of(module) for module in MODULES]
    cells = len(ROWS) * len(columns)
    not_applicable = sum(len(column.not_applicable) for column in columns)
    text = DOC.read_text("utf-8")

    assert f"| fault rows | {len(ROWS)} " in text
    assert f"| tasks (columns) | {len(columns)} |" in text
    assert f"| cells | {cells}: {cells - not_applicable} tested, {not_applicable} not applicable" in text
    assert f"| bad inputs tried | {len(CASES)}, " in text


def test_the_doc_lists_every_bad_input_case() -> None:
    from tests.reliability.test_bad_input import CASES

    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", DOC.read_text("utf-8"), re.MULTILINE)

    assert listed == [case.id for case in CASES]
