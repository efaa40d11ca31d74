"""Start an SMS conversation with a customer, send a message into it, and print the agent's reply.

``RaiaStartConversationOperator`` checks what the channel needs (an E.164 phone number and an
introduction for SMS) before any request and returns the conversation id. ``RaiaSendMessageOperator``
posts a message as the customer; with ``deferrable=True`` it uses ``messages/async`` and waits for the
reply in the triggerer.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.conversation import RaiaStartConversationOperator
from raia_provider.operators.message import RaiaSendMessageOperator


@dag(
    dag_id="example_raia_conversation",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_conversation() -> None:
    """Start the conversation, send a message, print the reply."""
    # [START howto_operator_raia_start_conversation]
    start = RaiaStartConversationOperator(
        task_id="start_sms_conversation",
        channel="sms",
        first_name="Ada",
        last_name="Lovelace",
        phone_number="+15551234567",
        sms_introduction="Hi Ada, this is Acme support about your order A-1042.",
        fk_id="crm-42",
        custom_data={"order": "A-1042"},
    )
    # [END howto_operator_raia_start_conversation]

    # [START howto_operator_raia_send_message]
    send = RaiaSendMessageOperator(
        task_id="send_message",
        conversation_id="{{ ti.xcom_pull(task_ids='start_sms_conversation') }}",
        message="When will my order arrive?",
        deferrable=True,  # wait for the reply in the triggerer, not on a worker
        poll_interval=1,
    )
    # [END howto_operator_raia_send_message]

    @task
    def print_reply(reply: dict[str, Any]) -> None:
        print(f"raia replied in conversation {reply['conversation_id']}: {reply['response']}")

    start >> send
    print_reply(send.output)  # type: ignore[arg-type]  # an XComArg, resolved at run time


example_raia_conversation()
