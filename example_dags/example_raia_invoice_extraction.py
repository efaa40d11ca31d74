"""Documents in, structured data out: extract vendor, date and total from 50 invoices into a CSV table.

Each row of the batch names one document (``file_field``); the task uploads it through raia's signed URL just
before the row's prompt and attaches it. The answers must match ``INVOICE`` (a JSON Schema), so the output has
``vendor``, ``invoice_date`` and ``total`` columns next to the record's own, ready for a warehouse load. A row
whose answer is not that JSON fails alone, with the raw answer kept in its ``response`` column.

The extraction runs on the ``raia_invoices`` connection: an agent set up in raia to answer with the same
output JSON schema. A reviewer prompt on ``raia_default`` then gets the table itself as an attachment.

The documents are ``data/invoices/*.txt``; an object-storage prefix (``s3://bucket/invoices/``) works the same.
The output folder is ``$RAIA_EXAMPLE_OUTPUT`` (default ``/tmp/raia-examples``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.batch import RaiaBatchPromptOperator
from raia_provider.operators.prompt import RaiaPromptOperator

INVOICES = Path(__file__).parent / "data" / "invoices"
OUTPUT = os.environ.get("RAIA_EXAMPLE_OUTPUT", "/tmp/raia-examples")

# [START howto_raia_invoice_schema]
INVOICE = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "invoice_date": {"type": "string", "format": "date"},
        "total": {"type": "number"},
    },
    "required": ["vendor", "invoice_date", "total"],
}
# [END howto_raia_invoice_schema]


@dag(
    dag_id="example_raia_invoice_extraction",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_invoice_extraction() -> None:
    """List the invoices, extract their fields into a CSV table, have the table reviewed, report."""

    @task
    def list_invoices() -> list[dict[str, str]]:
        """One record per document: its id and where it is (a path or an object-storage URL)."""
        return [{"invoice_id": path.stem, "document": str(path)} for path in sorted(INVOICES.glob("*.txt"))]

    # [START howto_operator_raia_batch_prompt_files]
    extract = RaiaBatchPromptOperator(
        task_id="extract_invoices",
        records=list_invoices(),
        key_field="invoice_id",
        file_field="document",  # each row's document, uploaded and attached to its prompt
        prompt_template="Extract the vendor, the invoice date and the total due of the attached invoice.",
        output_schema=INVOICE,  # each answer is parsed and checked; its properties become columns
        output_path=OUTPUT + "/invoices/{{ ds }}.csv",  # .csv -> CSV; .parquet needs the parquet extra
        raia_conn_id="raia_invoices",
        max_concurrency=8,
        requests_per_second=50,
        max_failed_ratio=0.05,
    )
    # [END howto_operator_raia_batch_prompt_files]

    # [START howto_operator_raia_prompt_files]
    review = RaiaPromptOperator(
        task_id="review_table",
        prompt="Here is this morning's invoice table. Flag any row whose total looks wrong.",
        files="{{ ti.xcom_pull(task_ids='extract_invoices')['output_path'] }}",  # a path, a glob or a list
        output_format="text",
    )
    # [END howto_operator_raia_prompt_files]

    @task
    def report(manifest: dict[str, Any], reviewed: dict[str, Any]) -> None:
        print(
            f"raia extracted {manifest['completed']} of {manifest['rows']} invoices "
            f"({manifest['failed']} failed) into {manifest['output_path']}; review: {reviewed['response']}"
        )

    extract >> review
    report(extract.output, review.output)  # type: ignore[arg-type]  # XComArgs, resolved at run time


example_raia_invoice_extraction()
