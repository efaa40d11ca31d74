"""Ask a raia agent a question and use the answer downstream.

The task calls :class:`~raia_provider.hooks.raia.RaiaHook` directly, as a ``@task`` does when it needs more
than an operator offers; the hook validates the arguments, retries transient failures and returns a typed
result, which the task turns into plain JSON for XCom. ``RaiaPromptOperator`` does the same in one line.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

QUESTION = "Summarise our refund policy in one sentence."


@dag(
    dag_id="example_raia_prompt",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_prompt() -> None:
    """Check the connection, ask one question, log the answer."""

    @task
    def check_connection() -> str:
        from raia_provider.hooks.raia import RaiaHook

        ok, message = RaiaHook().test_connection()
        if not ok:
            raise RuntimeError(message)
        return message

    @task
    def ask_agent(question: str) -> dict[str, Any]:
        # [START howto_hook_process_prompt]
        from raia_provider.hooks.raia import RaiaHook

        result = RaiaHook(raia_conn_id="raia_default").process_prompt(
            prompt=question, token_tracking_id="example_raia_prompt"
        )
        return result.to_json_dict()  # plain JSON for XCom: {"status", "totalTokens", "response", "error"}
        # [END howto_hook_process_prompt]

    @task
    def report(answer: dict[str, Any]) -> str:
        print(f"raia answered: {answer['response']} ({answer['totalTokens']} tokens)")
        return str(answer["response"])

    answer = ask_agent(QUESTION)
    check_connection() >> answer
    report(answer)  # type: ignore[arg-type]  # an XComArg, resolved to the dict at run time


example_raia_prompt()
