"""DAGs with retries for ``test_task_retries.py``: each task fails its first try, and the test checks the retry."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from raia_provider.operators.batch import RaiaBatchPromptOperator
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

with DAG("raia_retry_batch", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    RaiaBatchPromptOperator(
        task_id="enrich",
        records=[{"id": n, "topic": f"topic {n}"} for n in range(40)],
        key_field="id",
        prompt_template="Tell me about {{ topic }}",
        output_path=os.environ.get("RAIA_TEST_BATCH_OUTPUT", "/nonexistent/out.jsonl"),
        max_concurrency=4,
        max_failed_ratio=0,  # one failed row fails the try
        **_RETRY_AT_ONCE,
    )
