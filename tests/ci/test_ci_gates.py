"""CI cannot go green by accident: every check's failure fails ``.ci/run``.

Each test plants one fault in a scratch copy of the repository (a lint error, a badly formatted file, a type
error, a broken docs reference, a failing test, a missing browser) and runs the copy's ``.ci/run`` with only
the stage that must catch it (``RAIA_STAGES``, see ``scripts/_env.sh``), reusing this interpreter's
virtualenv (``RAIA_REUSE_VENV``) instead of building one. The same stages on the unchanged copy exit 0, so a
non-zero exit is the planted fault's doing. The scripts do not depend on the Airflow version: the floor
skips this module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.required import E2E_RUNS_HERE

REPO = Path(__file__).resolve().parents[2]
#: The virtualenv running this test: installed, with ruff, mypy, sphinx and pytest.
VENV = Path(sys.prefix)
PROBE = "raia_provider/_ci_probe.py"
MISSING_BROWSER = "/nonexistent/chromium"

pytestmark = pytest.mark.skipif(
    not E2E_RUNS_HERE, reason="the CI scripts do not depend on Airflow: their self-check runs on Airflow 3.3 only"
)


def _copy_repo(target: Path) -> Path:
    """Copy the repository's files (tracked and new, not ignored: no virtualenvs, caches or builds)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scratch copy for the module; each test restores what it planted."""
    return _copy_repo(tmp_path_factory.mktemp("ci-scratch"))


def environment(*, ci: bool, **env: str) -> dict[str, str]:
    """This process's environment without pytest's and CI's variables, plus ``env`` (and ``CI=true`` if ``ci``)."""
    chosen = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "CI"))}
    chosen.update(env)
    if ci:
        chosen["CI"] = "true"
    return chosen


def run(copy: Path, command: str, stages: str, *, ci: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (``.ci/run`` or a script) in the copy with only ``stages``; return what it did."""
    return subprocess.run(
        [str(copy / command)],
        cwd=copy,
        env=environment(ci=ci, RAIA_STAGES=stages, RAIA_REUSE_VENV=str(VENV), **env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@contextmanager
def planted(copy: Path, name: str, text: str) -> Iterator[None]:
    """Write ``text`` to ``name`` in the copy for the duration (appending to a file that exists)."""
    path = copy / name
    before = path.read_bytes() if path.exists() else None
    path.write_text((before.decode() if before is not None else "") + text, encoding="utf-8")
    try:
        yield
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before)


def test_the_checks_pass_on_the_unchanged_copy(scratch: Path) -> None:
    """The control: without a planted fault the same stages exit 0 (so the tests below fail for their fault)."""
    done = run(scratch, ".ci/run", "ruff,mypy,docs")

    assert done.returncode == 0, done.stdout + done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("==")] == ["== ruff", "== mypy", "== docs"]


def test_a_lint_error_fails_ci(scratch: Path) -> None:
    with planted(scratch, PROBE, "import os\n"):
        done = run(scratch, ".ci/run", "ruff")

    assert done.returncode != 0
    assert "F401" in done.stdout
    assert "_ci_probe.py" in done.stdout


def test_a_file_ruff_would_reformat_fails_ci(scratch: Path) -> None:
    with planted(scratch, PROBE, "value = {  'a':1 }\n"):  # lint-clean, badly formatted
        done = run(scratch, ".ci/run", "ruff")

    assert done.returncode != 0
    assert "1 file would be reformatted" in done.stdout
    assert "raia_provider/_ci_probe.py" in done.stdout


def test_a_type_error_fails_ci(scratch: Path) -> None:
    with planted(scratch, PROBE, 'def answer() -> int:\n    return "forty-two"\n'):
        done = run(scratch, ".ci/run", "mypy")

    assert done.returncode != 0
    assert "_ci_probe.py" in done.stdout
    assert "Incompatible return value type" in done.stdout


def test_a_docs_warning_fails_ci(scratch: Path) -> None:
    with planted(scratch, "docs/index.rst", "\nSee :doc:`a-page-that-does-not-exist`.\n"):
        done = run(scratch, ".ci/run", "docs")

    assert done.returncode != 0
    assert "a-page-that-does-not-exist" in done.stderr


def test_a_package_left_out_of_the_wheel_fails_ci(scratch: Path) -> None:
    """A subpackage the packaging config leaves out (here by an ``exclude``): the built wheel must be refused."""
    pyproject = scratch / "pyproject.toml"
    before = pyproject.read_text(encoding="utf-8")
    found = 'include = ["raia_provider*"]'
    assert found in before
    pyproject.write_text(before.replace(found, found + '\nexclude = ["raia_provider.engines*"]'), encoding="utf-8")
    try:
        done = run(scratch, ".ci/run", "package")
    finally:
        pyproject.write_text(before, encoding="utf-8")

    assert done.returncode != 0
    assert re.search(r"!! the wheel lacks \d+ package file\(s\): \['raia_provider/engines/", done.stdout), done.stdout


def test_a_failing_test_fails_ci(scratch: Path) -> None:
    suite, parked = scratch / "tests", scratch / "tests-parked"
    suite.rename(parked)  # a one-test suite in its place: the whole suite would take many minutes here
    try:
        suite.mkdir()
        (suite / "test_probe.py").write_text("def test_probe() -> None:\n    assert 1 + 1 == 3\n", encoding="utf-8")
        failed = run(scratch, ".ci/run", "tests-3.3")
        (suite / "test_probe.py").write_text("def test_probe() -> None:\n    assert 1 + 1 == 2\n", encoding="utf-8")
        passed = run(scratch, ".ci/run", "tests-3.3")
    finally:
        shutil.rmtree(suite, ignore_errors=True)
        parked.rename(suite)

    assert failed.returncode != 0
    assert "1 failed" in failed.stdout
    assert passed.returncode == 0
    assert "1 passed" in passed.stdout


def test_a_missing_browser_fails_ci_and_is_a_shown_skip_elsewhere(scratch: Path) -> None:
    in_ci = run(scratch, ".ci/run", "browser", RAIA_CHROMIUM=MISSING_BROWSER)
    outside = run(scratch, "scripts/test.sh", "browser", ci=False, RAIA_CHROMIUM=MISSING_BROWSER)

    assert in_ci.returncode != 0
    assert f"{MISSING_BROWSER} is missing" in in_ci.stdout
    assert "under CI=true" in in_ci.stdout
    assert outside.returncode == 0, outside.stdout + outside.stderr
    assert "the browser tests will be skipped" in outside.stdout


def _collect_browser_tests(*, ci: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/e2e/test_browser_e2e.py"],
        cwd=REPO,
        env=environment(ci=ci, RAIA_CHROMIUM=MISSING_BROWSER),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_browser_suite_fails_under_ci_without_a_browser_and_skips_with_its_reason_elsewhere() -> None:
    in_ci, outside = _collect_browser_tests(ci=True), _collect_browser_tests(ci=False)

    assert in_ci.returncode != 0
    assert f"the browser tests need Debian's chromium at {MISSING_BROWSER}" in in_ci.stdout
    assert "under CI=true the end-to-end suite must run, not skip" in in_ci.stdout
    assert outside.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, outside.stdout  # a skipped module: not a failure
    assert "1 skipped" in outside.stdout
    skipped = [line for line in outside.stdout.splitlines() if line.startswith("SKIPPED [1]")]
    assert len(skipped) == 1
    reason = f"the browser tests need Debian's chromium at {MISSING_BROWSER} (apt-get install chromium)"
    assert skipped[0].endswith(reason), skipped
