"""Every docs page stands on its own: no page cites a file a user of the package does not have (issue 16).

The project's research notes about raia live outside the repository; the docs state the facts and cite
raia's public documentation instead. Pages are the Sphinx sources, the README, and the docstrings and
``#:`` comments of every module the API reference renders.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: What a reference to a file outside the repository looks like.
OUTSIDE = re.compile(r"API_FACTS|SPEC_NOTES|\.\./shared|shared/raia-api|000_d9cfab815dc07985|003_a4613eb1cd88233e")


def pages() -> list[Path]:
    sources = [path for path in (ROOT / "docs").rglob("*") if path.suffix in (".rst", ".md")]
    sources = [path for path in sources if "_build" not in path.parts]
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    modules = re.findall(r"^\.\. automodule:: ([\w.]+)", api, flags=re.MULTILINE)
    rendered = [ROOT / (module.replace(".", "/") + ".py") for module in modules]
    return [ROOT / "README.md", *sources, *rendered]


def test_the_page_list_covers_the_docs_and_the_api_reference() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in pages()}
    assert {"README.md", "docs/connections/raia.rst", "docs/howto/operator-batch-prompt.rst"} <= names
    assert "raia_provider/operators/webhook.py" in names
    assert all((ROOT / name).is_file() for name in names)


@pytest.mark.parametrize("page", pages(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_page_cites_a_file_outside_the_repository(page: Path) -> None:
    cited = [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert cited == []
