"""What the end-to-end suite needs, and what happens when a part is missing.

Outside CI a missing part (Debian's Chromium, Playwright) skips the tests that need it, with the reason in
pytest's summary (``-rs``). Under ``CI=true`` it fails the run instead: a green CI must mean the suite ran.
"""

from __future__ import annotations

import os

import airflow
import pytest
from packaging.version import Version

#: The end-to-end suite proves the provider in the Airflow we ship for; the floor runs the rest of the suite.
E2E_AIRFLOW = Version("3.3")
E2E_RUNS_HERE = Version(airflow.__version__) >= E2E_AIRFLOW


def require(present: bool, what: str) -> None:
    """Skip the calling test module when ``present`` is false, or fail the collection under CI.

    :param present: whether the part is there.
    :param what: what is missing and how to get it, for the message.
    """
    if present or not E2E_RUNS_HERE:  # below 3.3 the suite is skipped anyway (see conftest.py)
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what}; under CI=true the end-to-end suite must run, not skip", pytrace=False)
    pytest.skip(what, allow_module_level=True)
