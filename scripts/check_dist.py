"""Check a built sdist and wheel: the metadata a release needs, and every file the package must carry.

Usage: ``python scripts/check_dist.py DIST_DIR``. Exits non-zero, listing every problem, if one is found.
Run by ``scripts/package_check.sh`` after ``twine check --strict``.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_CLASSIFIERS = {"Framework :: Apache Airflow", "Framework :: Apache Airflow :: Provider", "Typing :: Typed"}
REQUIRED_URLS = {"Homepage", "Documentation", "Source", "Changelog", "Issues"}


def package_files() -> set[str]:
    """Every module of the checkout's ``raia_provider/`` (and ``py.typed``): what the wheel must hold."""
    package = ROOT / "raia_provider"
    found = [*package.rglob("*.py"), package / "py.typed"]
    return {path.relative_to(ROOT).as_posix() for path in found if "__pycache__" not in path.parts}


def source_version() -> str:
    """``raia_provider.__version__`` as the checkout states it (the build tools' interpreter cannot import it)."""
    found = re.search(r'^__version__ = "([^"]+)"', (ROOT / "raia_provider" / "__init__.py").read_text(), re.M)
    return found.group(1) if found else "<none>"


def changelog_version() -> str:
    found = re.search(r"^(\d+\.\d+\.\d+\S*) \(", (ROOT / "docs" / "changelog.rst").read_text(encoding="utf-8"), re.M)
    return found.group(1) if found else "<none>"


def check(dist: Path) -> list[str]:
    problems: list[str] = []
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        return [f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}"]
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(wheel.read(metadata_name).decode())
        entry_points = next((wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), "")
    missing = sorted(package_files() - names)
    if missing:
        problems.append(f"the wheel lacks {len(missing)} package file(s): {missing[:10]}")
    if "raia_provider/py.typed" not in names:
        problems.append("the wheel lacks raia_provider/py.typed")
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        problems.append("the wheel carries no LICENSE file")
    stray = sorted(name for name in names if name.startswith(("tests/", "example_dags/", "benchmarks/", "docs/")))
    if stray:
        problems.append(f"the wheel carries files that are not the package: {stray[:10]}")
    if "apache_airflow_provider" not in entry_points or "raia_provider.get_provider_info" not in entry_points:
        problems.append("the wheel has no apache_airflow_provider entry point")

    __version__ = source_version()
    if metadata["Version"] != __version__:
        problems.append(f"the wheel's version {metadata['Version']} is not raia_provider.__version__ {__version__}")
    if changelog_version() != __version__:
        problems.append(f"docs/changelog.rst's newest entry is {changelog_version()}, not {__version__}")
    if metadata.get("License-Expression") != "Apache-2.0":
        problems.append(f"License-Expression is {metadata.get('License-Expression')!r}, not 'Apache-2.0'")
    classifiers = set(metadata.get_all("Classifier") or [])
    if REQUIRED_CLASSIFIERS - classifiers:
        problems.append(f"classifiers missing: {sorted(REQUIRED_CLASSIFIERS - classifiers)}")
    urls = {line.split(",", 1)[0].strip() for line in metadata.get_all("Project-URL") or []}
    if REQUIRED_URLS - urls:
        problems.append(f"project URLs missing: {sorted(REQUIRED_URLS - urls)}")
    if metadata.get("Requires-Python") != ">=3.11":
        problems.append(f"Requires-Python is {metadata.get('Requires-Python')!r}")
    if not any(line.startswith("apache-airflow>=") for line in metadata.get_all("Requires-Dist") or []):
        problems.append("Requires-Dist does not name apache-airflow with a floor")

    with tarfile.open(sdists[0]) as sdist:
        members = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in ("pyproject.toml", "README.md", "LICENSE", "raia_provider/py.typed"):
        if needed not in members:
            problems.append(f"the sdist lacks {needed}")
    return problems


def main() -> int:
    dist = Path(sys.argv[1])
    problems = check(dist)
    for problem in problems:
        print(f"!! {problem}")
    if not problems:
        print(f"-- {', '.join(sorted(p.name for p in dist.iterdir()))}: metadata and contents as a release needs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
