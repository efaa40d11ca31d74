"""Every operator and sensor how-to has a parameters table, and it says what the class takes (issue 16).

The table lists each argument the class adds to Airflow's own (``BaseOperator``, ``BaseSensorOperator``),
no more and no fewer, with the default the signature has: "required" for none, a literal in double
backquotes compared by value, or an Airflow config option (``[section] option``) where the default is read
from the configuration.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import BaseOperator
from airflow.sdk.bases.sensor import BaseSensorOperator

from raia_provider.operators.batch import RaiaBatchPromptOperator
from raia_provider.operators.conversation import RaiaStartConversationOperator
from raia_provider.operators.files import RaiaUploadFilesOperator
from raia_provider.operators.knowledge import RaiaSyncKnowledgeOperator
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.operators.webhook import RaiaCreateWebhookOperator
from raia_provider.sensors.raia import RaiaPromptSensor

HOWTOS = Path(__file__).resolve().parents[2] / "docs" / "howto"

#: Each operator or sensor, and its how-to page.
PAGES: dict[str, type[BaseOperator]] = {
    "operator-prompt": RaiaPromptOperator,
    "operator-batch-prompt": RaiaBatchPromptOperator,
    "operator-send-message": RaiaSendMessageOperator,
    "operator-start-conversation": RaiaStartConversationOperator,
    "operator-upload-files": RaiaUploadFilesOperator,
    "operator-sync-knowledge": RaiaSyncKnowledgeOperator,
    "operator-create-webhook": RaiaCreateWebhookOperator,
    "sensor-prompt": RaiaPromptSensor,
}

REQUIRED = inspect.Parameter.empty


def own_parameters(cls: type[BaseOperator]) -> dict[str, Any]:
    """The arguments ``cls`` and its raia base classes take, beyond Airflow's own, with their defaults."""
    found: dict[str, Any] = {}
    for klass in cls.__mro__:
        if klass in (BaseOperator, BaseSensorOperator):
            break
        if "__init__" not in vars(klass):
            continue
        for name, parameter in inspect.signature(klass.__init__).parameters.items():
            if name != "self" and parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                found.setdefault(name, parameter.default)
    return found


def list_tables(text: str) -> list[list[list[str]]]:
    """Every ``list-table`` of an rst text, as rows of cells (a cell's continuation lines joined)."""
    tables: list[list[list[str]]] = []
    for block in re.split(r"^\.\. list-table::.*$", text, flags=re.MULTILINE)[1:]:
        rows: list[list[str]] = []
        for line in block.splitlines():
            if line.startswith("   * - "):
                rows.append([line.removeprefix("   * - ").strip()])
            elif line.startswith("     - ") and rows:
                rows[-1].append(line.removeprefix("     - ").strip())
            elif line.startswith("       ") and rows:
                rows[-1][-1] += " " + line.strip()
            elif line.strip() and not line.startswith("   :") and rows:
                break  # the table ended
        tables.append(rows)
    return tables


def argument_names(cell: str) -> list[str]:
    return re.findall(r"``(\w+)``", cell)


def parameters_table(page: str) -> dict[str, str]:
    """What a page documents: {argument: default cell} from its "Parameters" table.

    A page may also list arguments in a per-channel table (header ``argument``, then one column per
    channel holding R, o or -): an argument required on every channel is "required", the others default to
    ``None``.
    """
    text = (HOWTOS / f"{page}.rst").read_text(encoding="utf-8")
    heading = re.search(r"^Parameters\n-+\n", text, flags=re.MULTILINE)
    assert heading, f"docs/howto/{page}.rst has no Parameters section"
    under_heading = list_tables(text[heading.end() :])
    assert under_heading, f"docs/howto/{page}.rst: no list-table under Parameters"
    tables = [("parameters", under_heading[0])]
    tables += [("channels", table) for table in list_tables(text) if table and table[0][0] == "argument"]
    documented: dict[str, str] = {}
    for kind, (header, *rows) in tables:
        for row in rows:
            names = argument_names(row[0])
            assert names, f"docs/howto/{page}.rst: row {row[0]!r} names no argument"
            if kind == "parameters":
                assert header[:2] == ["parameter", "default"], header
                default = row[1]
            else:
                default = "required" if set(row[1:-1]) == {"R"} else "``None``"
            for name in names:
                assert name not in documented, f"docs/howto/{page}.rst lists {name!r} twice"
                documented[name] = default
    return documented


def default_matches(cell: str, default: Any) -> bool:
    if cell == "required":
        return default is REQUIRED
    literal = re.fullmatch(r"``(.+)``", cell)
    if literal is None or default is REQUIRED:
        return False
    text = literal.group(1)
    if re.fullmatch(r"\[\w+\] \w+", text):  # read from Airflow's configuration when the DAG is parsed
        return True
    try:
        return bool(ast.literal_eval(text) == default)
    except (ValueError, SyntaxError):
        return text == repr(default)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_parameters_table_lists_exactly_what_the_class_takes(page: str) -> None:
    assert sorted(parameters_table(page)) == sorted(own_parameters(PAGES[page]))


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_parameters_table_gives_the_signatures_defaults(page: str) -> None:
    signature = own_parameters(PAGES[page])
    wrong = {
        name: (cell, "required" if signature[name] is REQUIRED else repr(signature[name]))
        for name, cell in parameters_table(page).items()
        if name in signature and not default_matches(cell, signature[name])
    }
    assert wrong == {}


def test_every_operator_and_sensor_of_the_package_has_a_page() -> None:
    import raia_provider.operators as operators
    import raia_provider.sensors as sensors

    public = set()
    for package in (operators, sensors):
        for module in Path(package.__file__).parent.glob("[!_]*.py"):
            source = module.read_text(encoding="utf-8")
            public.update(re.findall(r"^class (Raia(?!Base)\w+(?:Operator|Sensor))\(", source, flags=re.MULTILINE))
    assert public == {cls.__name__ for cls in PAGES.values()}


def test_the_table_check_catches_a_drifted_default() -> None:
    assert default_matches("``5.0``", 5.0)
    assert not default_matches("``10.0``", 5.0)
    assert not default_matches("required", None)
    assert default_matches("required", REQUIRED)
    assert default_matches("``[operators] default_deferrable``", False)
    assert not default_matches("``None``", REQUIRED)
