"""Enrich a table: ask the agent about each of 500 product reviews from one task, at raia's pace.

``RaiaBatchPromptOperator`` reads ``data/reviews.csv`` (an ``ObjectStoragePath`` such as
``s3://bucket/reviews.csv`` works the same), renders the prompt for each row, asks them concurrently within
the client-side rate limit, and writes every review with the agent's answer to a JSONL file. Only a small
manifest goes to XCom. A retry of the task asks only the rows that have no answer yet.

The output folder is ``$RAIA_EXAMPLE_OUTPUT`` (default ``/tmp/raia-examples``), one file per run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.batch import RaiaBatchPromptOperator

REVIEWS = Path(__file__).parent / "data" / "reviews.csv"
OUTPUT = os.environ.get("RAIA_EXAMPLE_OUTPUT", "/tmp/raia-examples")


@dag(
    dag_id="example_raia_batch_prompt",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_batch_prompt() -> None:
    """Classify every review, then report what the batch did."""
    # [START howto_operator_raia_batch_prompt]
    classify = RaiaBatchPromptOperator(
        task_id="classify_reviews",
        input_path=str(REVIEWS),  # CSV or JSONL; or records=<an upstream task's list of dicts>
        key_field="review_id",  # identifies a row in the checkpoint and the output
        prompt_template=(
            "Classify the sentiment of this review of a {{ product }} as positive, negative or neutral, "
            "and answer with that one word: {{ review }}"
        ),
        output_path=OUTPUT + "/reviews/{{ ds }}.jsonl",  # local, or an object-storage URL
        max_concurrency=16,
        requests_per_second=50,  # your raia rate limit
        max_failed_ratio=0.01,  # up to 1 % of the rows may fail without failing the task
        token_tracking_id="example_raia_batch_prompt",
    )
    # [END howto_operator_raia_batch_prompt]

    @task
    def report(manifest: dict[str, Any]) -> None:
        print(
            f"raia batch enriched {manifest['completed']} of {manifest['rows']} rows "
            f"({manifest['failed']} failed, {manifest['total_tokens']} tokens, {manifest['requests']} requests "
            f"in {manifest['elapsed_seconds']:.1f} s) into {manifest['output_path']}"
        )

    report(classify.output)  # type: ignore[arg-type]  # an XComArg, resolved at run time


example_raia_batch_prompt()
