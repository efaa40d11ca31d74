"""``docs/reliability.md`` and the fault-matrix tests describe the same cells.

Every column module (``test_faults_*.py``) has a section in the doc headed by its ``COLUMN.name``, whose
table lists every fault row in the matrix's order; a row the column marks not applicable reads ``n/a``
with the reason, every other row describes what the tests assert.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.hooks.raia import RaiaHook
from raia_provider.testing import RaiaEmulator
from tests.reliability.fault_matrix import ROWS, Column, covered_rows
from tests.task_doubles import FakeClock

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
DOC_TEXT = DOC.read_text("utf-8")
MODULES = sorted(path.stem for path in Path(__file__).parent.glob("test_faults_*.py"))


def column_of(module: str) -> Column:
    column = importlib.import_module(f"tests.reliability.{module}").COLUMN
    assert isinstance(column, Column)
    return column


def section(title: str) -> str:
    """The text of the page's ``## title`` section, up to the next ``##`` heading."""
    assert f"\n## {title}\n" in DOC_TEXT, f"docs/reliability.md has no section '## {title}'"
    return DOC_TEXT.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


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

    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section("Bad input"), re.MULTILINE)

    assert listed == [case.id for case in CASES]


# -- every number the page states ------------------------------------------------------------------------------


def _parametrizations(function: Callable[..., Any]) -> int:
    """How many tests pytest makes of ``function``: the product of its parametrize marks' values."""
    marks = [mark for mark in getattr(function, "pytestmark", []) if mark.name == "parametrize"]
    return math.prod(len(mark.args[1]) for mark in marks)


def _tests_in(module: str) -> list[Callable[..., Any]]:
    loaded = importlib.import_module(f"tests.reliability.{module}")
    return [getattr(loaded, name) for name in dir(loaded) if name.startswith("test_")]


def _reads_beyond_timeout_over_interval() -> int:
    """How many reads past ``timeout / poll_interval`` the poll loop makes at most (the first, the last).

    Drives the real loop on a clock it moves itself, a pending answer each time, over several intervals.
    """
    from raia_provider.engines.polling import READ, PollTarget, Reading, poll_steps

    worst = 0.0
    for timeout, interval in ((1.0, 0.25), (1.0, 0.3), (10.0, 3.0), (5.0, 5.0), (2.0, 7.0)):
        clock = FakeClock(0.0)
        steps = poll_steps(PollTarget.prompt("p"), poll_interval=interval, end_time=timeout, now=clock)
        reads, step = 0, next(steps)
        with contextlib.suppress(StopIteration):
            while True:
                if step is READ:
                    reads += 1
                    step = steps.send(Reading("pending"))
                else:
                    clock.now += step
                    step = next(steps)
        worst = max(worst, reads - timeout / interval)
    return math.ceil(worst)


def _claims() -> list[tuple[str, tuple[object, ...]]]:
    """Each number-bearing phrase of the page (a regex, one group per number) and what the suite says it is.

    A phrase may occur any number of times (and must occur at least once); every occurrence must carry the
    values given. The values come from the code and the tests, never from the page.
    """
    from raia_provider._core.responses import _SNIPPET
    from raia_provider._core.retry import RetryPolicy
    from raia_provider._core.wire import WireLimits
    from raia_provider.engines.batch_runner import MAX_THROTTLED_ATTEMPTS
    from raia_provider.engines.polling import POLL_RETRY_POLICY
    from raia_provider.operations.conversations import CreateConversation
    from raia_provider.testing.emulator.contract import SERVED_OPERATIONS
    from tests.hostile.cases import CASES as CASES_HOSTILE
    from tests.hostile.test_operators import PATHS as PATHS_HOSTILE
    from tests.reliability.fault_matrix import ATTEMPTS, BURST, READ_TIMEOUT, RETRY_AFTER
    from tests.reliability.test_bad_input import CASES
    from tests.reliability.test_faults_batch import ROWS_IN_BATCH
    from tests.reliability.test_faults_knowledge import NAMES as SYNCED
    from tests.reliability.test_faults_upload import NAMES as UPLOADED
    from tests.reliability.test_secret_handling import WINDOW, test_the_key_leaks_nowhere

    (title_limit,) = (rule.max_length for rule in CreateConversation.model_fields["title"].metadata)
    (context_limit,) = (rule.max_length for rule in CreateConversation.model_fields["context"].metadata)
    policy = RetryPolicy()
    backoff = ", ".join(f"{policy.initial_wait * 2**n:g}" for n in range(policy.max_attempts - 1))
    reads = POLL_RETRY_POLICY.max_attempts
    columns = [column_of(module) for module in MODULES]
    cells = len(ROWS) * len(columns)
    not_applicable = sum(len(column.not_applicable) for column in columns)
    matrix_tests = sum(_parametrizations(test) for module in MODULES for test in _tests_in(module))
    properties = [test for test in _tests_in("test_properties") if hasattr(test, "hypothesis")]
    secret_paths = _parametrizations(test_the_key_leaks_nowhere)
    return [
        # The retry policy and the test matrix's parameters (the longer phrases first: each match is consumed).
        (r"up to (\d+) / up to (\d+)", (str(ATTEMPTS), str(ATTEMPTS))),
        (r"tried (\d+) times \((\d+), (\d+), (\d+), (\d+) s", (str(ATTEMPTS), *backoff.split(", "))),
        (r"is tried (\d+) times, then", (str(ATTEMPTS),)),
        (r"\" after (\d+) /", (str(ATTEMPTS),)),
        (r"and (\d+) reads fail", (str(reads),)),
        (r"timeout / poll_interval \+ (\d+) reads", (str(_reads_beyond_timeout_over_interval()),)),
        (r"(\d+(?:, \d+)+) s", (backoff,)),
        (r"1, 2, 4 … capped at (\d+) s", (f"{policy.max_wait:g}",)),
        (r"up to (\d+) s of jitter", (f"{policy.jitter:g}",)),
        (r"capped at (\d+) s\) when raia sends it", (f"{policy.retry_after_cap:g}",)),
        (r"(\d+) attempts in all", (str(policy.max_attempts),)),
        (r"default: (\d+) attempts", (str(policy.max_attempts),)),
        (r"`Retry-After`,\n?(\d+) s in the tests", (str(RETRY_AFTER),)),
        (r"\| (?!1 / 1 )(\d+) / (\d+) \|", (str(BURST + 1), str(ATTEMPTS))),
        (r"(\d+)(?: reads)? for a burst, (\d+) when lasting", (str(BURST + 1), str(ATTEMPTS))),
        (
            r"(\d+) answers billed for a burst of (\d+), (\d+) for a lasting",
            (str(BURST + 1), str(BURST), str(ATTEMPTS)),
        ),
        (
            r"\((\d+) for a burst of (\d+), (\d+) (?:for a lasting fault|when lasting)",
            (str(BURST + 1), str(BURST), str(ATTEMPTS)),
        ),
        (r"\((\d+) copies after a burst of (\d+)\)", (str(BURST + 1), str(BURST))),
        (
            r"up to (\d+)(?: POSTs| reads| for the row \| answers, or the row| \||(?: reads)? in a row| / up to)",
            (str(ATTEMPTS),),
        ),
        (r"(\d+) attempts(?:, none reaches raia| \((\d+) waits\)|, fails, and)", (str(ATTEMPTS), str(ATTEMPTS - 1))),
        (r"after (\d+) attempts", (str(ATTEMPTS),)),
        (r"(\d+) failed reads", (str(reads),)),
        (r"gives up after (\d+) failed reads", (str(reads),)),
        (r"the (\d+)th failed\nread", (str(reads),)),
        (r"two runs of (\d+)\nfailed reads", (str(reads - 1),)),
        (r"(\d+) creates time out", (str(ATTEMPTS),)),
        (r"and (\d+) webhooks land later", (str(ATTEMPTS),)),
        (r"\| 1, 2 or (\d+) \|", (str(ATTEMPTS),)),
        (r"blocking (\d+) POSTs / 1 read", (str(ATTEMPTS),)),
        (r"\"HTTP 500\" after (\d+);", (str(ATTEMPTS),)),
        (r"(\d+) copies of the failed question", (str(ATTEMPTS),)),
        (r"up to (\d+) for the row \(`MAX_THROTTLED_ATTEMPTS`\)", (str(MAX_THROTTLED_ATTEMPTS),)),
        (r"after (\d+) 429s", (str(MAX_THROTTLED_ATTEMPTS),)),
        (r"up to (\d+) for the row \| answers, or `RaiaPartialFailureError` naming", (str(MAX_THROTTLED_ATTEMPTS),)),
        (r"429 after (\d+) \|", (str(MAX_THROTTLED_ATTEMPTS),)),
        (r"The tests run (\d+) rows", (str(ROWS_IN_BATCH),)),
        (r"`uploaded` 1, `skipped` (\d+)", (str(len(UPLOADED) - 1),)),
        (r"The tests plan (\d+)\nuploads and 1 removal", (str(len(SYNCED)),)),
        (r"\(plan: add 1, keep (\d+)\)", (str(len(SYNCED) - 1),)),
        (
            r"`title` at most (\d+) characters, `context` at most (\d+),(\d{3})\)",
            (str(title_limit), *f"{context_limit:,}".split(",")),
        ),
        (r"(\d+(?:\.\d+)?) s in the test\b", (f"{READ_TIMEOUT:g}",)),
        (r"(\d+) s by default|\((\d+) s;", (f"{WireLimits().read:g}",)),
        (r"emulator's (\d+)\n?\s*agent-key operations|same (\d+) operations", (str(len(SERVED_OPERATIONS)),)),
        # The secret-key section.
        (r"(\d+) paths\. It looks", (str(secret_paths),)),
        (r"any (\d+) consecutive characters", (str(WINDOW),)),
        (r"the (\d+)-character excerpt", (str(_SNIPPET),)),
        # The totals table.
        (r"\| fault rows \| (\d+) \|", (str(len(ROWS)),)),
        (r"\| tasks \(columns\) \| (\d+) \|", (str(len(columns)),)),
        (
            r"\| cells \| (\d+): (\d+) tested, (\d+) not applicable",
            (str(cells), str(cells - not_applicable), str(not_applicable)),
        ),
        (r"\| fault-matrix tests \| (\d+),", (str(matrix_tests),)),
        (r"\| bad inputs tried \| (\d+),", (str(len(CASES)),)),
        (r"\| secret-handling paths \| (\d+),", (str(secret_paths),)),
        (r"\| hypothesis properties \| (\d+) tests", (str(len(properties)),)),
        (
            r"\| hostile answers \| (\d+), each against both transports and (\d+) task paths",
            (str(len(CASES_HOSTILE)), str(len(PATHS_HOSTILE))),
        ),
    ]


def _page_without_the_catalogue() -> str:
    """The page, less the bad-input catalogue's rows (held against the cases themselves, below)."""
    return "\n".join(line for line in DOC.read_text("utf-8").splitlines() if not re.match(r"^\| `[a-z0-9-]+` \|", line))


@pytest.mark.parametrize(("pattern", "values"), _claims(), ids=lambda value: str(value)[:40])
def test_every_number_the_page_states_is_the_suites(pattern: str, values: tuple[object, ...]) -> None:
    found = [tuple(group for group in match.groups() if group is not None) for match in re.finditer(pattern, DOC_TEXT)]

    assert found, f"docs/reliability.md no longer says {pattern!r}: drop the claim or restore the text"
    for numbers in found:
        assert numbers == values[: len(numbers)], (
            f"docs/reliability.md says {numbers} for {pattern!r}: the suite says {values}"
        )


#: Numbers that are names, not claims: HTTP statuses (the rows' titles, checked above) and Airflow versions.
#: Also "1": one request, one item (the matrix tests count them); and the names base64 and urllib3.
NAMES = re.compile(
    r"\b(?:200|201|204|400|401|403|404|429|500|502|503|504|[45]xx)\b|\b3\.\d(?:\.\d)?\+?|3\.1\u20133\.2"
    r"|\b(?:base64|urllib3)\b|(?<![\d.,])1(?![\d.,]\d)"
)


def test_no_number_on_the_page_goes_unchecked() -> None:
    """Every digit outside a claim above, a code span, a quoted message fragment or a name fails this test."""
    text = _page_without_the_catalogue()
    for pattern, _ in _claims():
        text = re.sub(pattern, "<claim>", text)
    text = re.sub(r"`[^`\n]*`", "<code>", text)
    text = re.sub(r"\"[^\"\n]*\"", "<quote>", text)
    text = NAMES.sub("<name>", text)
    unchecked = sorted({line.strip()[:120] for line in text.splitlines() if re.search(r"\d", line)})

    assert unchecked == []


def test_the_catalogue_rows_are_the_cases() -> None:
    from tests.reliability.test_bad_input import CASES

    rows = [line for line in section("Bad input").splitlines() if re.match(r"^\| `[a-z0-9-]+` \|", line)]

    assert rows == [
        f"| `{case.id}` | {case.entry} | `{case.argument}` | {case.wrong} | `{case.error.__name__}` |" for case in CASES
    ]


def _quoted_for(error_type: str) -> str:
    """The message the page quotes for ``error_type`` (the first quote following its name)."""
    match = re.search(rf"`{error_type}` \"([^\"]+)\"", DOC_TEXT)
    assert match, f"docs/reliability.md quotes no {error_type} message"
    return match.group(1)


@pytest.mark.integration
@pytest.mark.parametrize("row_id", ["429-retry-after", "401", "403"])
def test_the_quoted_messages_are_the_real_ones_word_for_word(row_id: str, matrix_emulator: RaiaEmulator) -> None:
    """The page's 429 and 401/403 quotes are parts of what a real refusal over a socket raises."""
    (row,) = [row for row in ROWS if row.id == row_id]
    row.inject(matrix_emulator, "POST", "/external/prompts", count=1)
    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=1))
    try:
        with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
            hook.process_prompt(prompt="What is our refund window?")
    finally:
        hook.close()

    assert _quoted_for(row.error.__name__) in str(raised.value)  # type: ignore[union-attr]


def test_the_hostile_table_lists_every_hostile_case_with_its_error() -> None:
    from tests.hostile.cases import CASES as HOSTILE

    rows = [
        line.split("|")[1:4]
        for line in section("Hostile servers").splitlines()
        if re.match(r"^\| `[a-z0-9-]+` \|", line)
    ]

    assert [row[0].strip().strip("`") for row in rows] == [case.id for case in HOSTILE]
    for row, case in zip(rows, HOSTILE, strict=True):
        assert row[2].strip().startswith(f"`{case.error.__name__}`"), (case.id, row)
