"""Sphinx configuration for the airflow-provider-raia documentation (built with -W by the test command)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# autodoc imports the hook, which imports Airflow: give Airflow a throw-away home.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="raia-docs-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from raia_provider import __version__  # noqa: E402

project = "airflow-provider-raia"
author = "airflow-provider-raia maintainers"
release = version = __version__

extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Pydantic and Airflow types are documented elsewhere; unresolved cross-references must not fail -W.
nitpicky = False
suppress_warnings = ["myst.header"]
html_theme = "alabaster"
html_static_path: list[str] = []
