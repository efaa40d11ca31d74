"""DAGs with retries for ``test_task_retries.py``: each task fails its first try, and the test checks the retry."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from raia_provider.operators.files import RaiaUploadFilesOperator
from raia_provider.operators.prompt import RaiaPromptOperator

_RETRY_AT_ONCE = {"retries": 1, "retry_delay": timedelta(seconds=0)}

with DAG("raia_retry_upload", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    RaiaUploadFilesOperator(
        task_id="upload", paths=os.environ.get("RAIA_TEST_DOCS_GLOB", "/nonexistent/*"), **_RETRY_AT_ONCE
    )

with DAG("raia_retry_prompt", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    RaiaPromptOperator(
        task_id="ask",
        prompt="Summarise the quarter.",
        deferrable=True,
        poll_interval=0.1,
        timeout=240,
        **_RETRY_AT_ONCE,
    )
