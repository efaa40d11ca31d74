"""Enrich records with the agent's answers: one mapped prompt task per row, then join the answers back.

A task produces the rows (in a real pipeline: a query or a file), a second one turns each row into a
question, ``RaiaPromptOperator`` is mapped over the questions with ``.partial().expand()``, and a last task
joins each answer to its row. Each mapped task returns plain JSON, so the join reads them straight from XCom.
For thousands of rows, one mapped task per row costs scheduler time: batch them instead.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.prompt import RaiaPromptOperator

CUSTOMERS = [
    {"id": 101, "name": "Ada", "note": "Asked twice about delivery times to Norway."},
    {"id": 102, "name": "Grace", "note": "Wants to return an opened blender."},
    {"id": 103, "name": "Linus", "note": "Requests an invoice with a VAT number."},
]


@dag(
    dag_id="example_raia_enrich_records",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_enrich_records() -> None:
    """Classify each customer note with the agent and print the enriched records."""

    @task
    def load_rows() -> list[dict[str, Any]]:
        return CUSTOMERS

    @task
    def to_prompts(rows: list[dict[str, Any]]) -> list[str]:
        return [f"Classify this customer note as delivery, returns or billing: {row['note']}" for row in rows]

    rows = load_rows()
    prompts = to_prompts(rows)  # type: ignore[arg-type]  # an XComArg, resolved at run time

    # [START howto_operator_raia_prompt_mapped]
    answers = RaiaPromptOperator.partial(
        task_id="ask_agent",
        token_tracking_id="{{ dag.dag_id }}",
        raia_conn_id="raia_default",
        output_format="text",  # a one-word label: no need to read the agent's output schema in every task
    ).expand(prompt=prompts)
    # [END howto_operator_raia_prompt_mapped]

    @task
    def join(rows: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        enriched = [{**row, "category": answer["response"]} for row, answer in zip(rows, answers, strict=True)]
        for record in enriched:
            print(f"enriched record {record['id']}: {record['category']}")
        print(f"enriched {len(enriched)} records")
        return enriched

    join(rows, answers.output)  # type: ignore[arg-type]  # XComArgs, resolved at run time


example_raia_enrich_records()
