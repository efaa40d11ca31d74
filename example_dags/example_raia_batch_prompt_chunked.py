"""Spread one big batch over several workers: map ``RaiaBatchPromptOperator`` over row ranges of one file.

A first task counts the rows and cuts them into ranges; each mapped task then batches its own range into
its own output file, concurrently within its own rate limit. Airflow's executor spreads the mapped tasks
over the workers, and a failed chunk is retried alone (asking only its unanswered rows). Give each chunk
its share of raia's rate limit: ``requests_per_second`` is per task.

The output folder is ``$RAIA_EXAMPLE_OUTPUT`` (default ``/tmp/raia-examples``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.batch import RaiaBatchPromptOperator, count_records, row_ranges

REVIEWS = Path(__file__).parent / "data" / "reviews.csv"
OUTPUT = os.environ.get("RAIA_EXAMPLE_OUTPUT", "/tmp/raia-examples")
CHUNKS_RUNNING_AT_ONCE = 3


@dag(
    dag_id="example_raia_batch_prompt_chunked",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_batch_prompt_chunked() -> None:
    """Plan row ranges, batch each range in its own mapped task, then add up the manifests."""

    # [START howto_operator_raia_batch_prompt_chunked]
    @task
    def plan_chunks() -> list[list[int]]:
        return row_ranges(count_records(REVIEWS), chunk_size=200)  # [[0, 200], [200, 400], [400, 500]]

    classify = RaiaBatchPromptOperator.partial(
        task_id="classify_chunk",
        input_path=str(REVIEWS),
        key_field="review_id",
        prompt_template="Classify the sentiment of this {{ product }} review in one word: {{ review }}",
        output_path=OUTPUT + "/reviews-chunked/{{ ds }}/part-{{ ti.map_index }}.jsonl",
        max_concurrency=8,
        requests_per_second=50 / CHUNKS_RUNNING_AT_ONCE,  # the chunks share raia's limit
        max_active_tis_per_dagrun=CHUNKS_RUNNING_AT_ONCE,
    ).expand(row_range=plan_chunks())
    # [END howto_operator_raia_batch_prompt_chunked]

    @task
    def add_up(manifests: list[dict[str, Any]]) -> dict[str, Any]:
        total = {name: sum(m[name] for m in manifests) for name in ("rows", "completed", "failed", "total_tokens")}
        print(f"raia batch in {len(manifests)} chunks: {total}")
        return total

    add_up(classify.output)  # type: ignore[arg-type]  # the mapped tasks' manifests, resolved at run time


example_raia_batch_prompt_chunked()
