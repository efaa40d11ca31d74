"""Register a webhook that tells the CRM when a conversation ends, without piling up duplicates on reruns.

raia has no webhook list or delete endpoint, so ``RaiaCreateWebhookOperator`` first looks in the agent
profile's webhook skill for the same URL and trigger condition; a rerun of this DAG registers nothing new.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.webhook import RaiaCreateWebhookOperator


@dag(
    dag_id="example_raia_webhook",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_webhook() -> None:
    """Register the webhook (once), report what happened."""
    # [START howto_operator_raia_create_webhook]
    register = RaiaCreateWebhookOperator(
        task_id="register_end_of_dialog_webhook",
        title="CRM sync",
        description="Send finished conversations to the CRM",
        url="https://crm.example.com/hooks/raia",
        trigger_condition="end_dialog",
    )
    # [END howto_operator_raia_create_webhook]

    @task
    def report(webhook: dict[str, Any]) -> None:
        verb = "registered" if webhook["created"] else "already registered"
        print(f"webhook {verb}: {webhook['trigger_condition']} -> {webhook['url']} ({webhook['status']})")

    report(register.output)  # type: ignore[arg-type]  # an XComArg, resolved at run time


example_raia_webhook()
