"""Submit a long-running prompt, then wait for its answer in the triggerer without holding a worker slot.

``RaiaPromptOperator(wait_for_completion=False)`` sends the prompt to ``POST /prompts/async`` and returns
its id at once. ``RaiaPromptSensor(deferrable=True)`` looks once, then defers to ``RaiaPromptTrigger``,
which polls ``GET /prompts/{id}/response-on`` from the triggerer's event loop until raia has answered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.sensors.raia import RaiaPromptSensor


@dag(
    dag_id="example_raia_async_prompt",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_async_prompt() -> None:
    """Submit, wait deferred, report."""
    # [START howto_operator_raia_prompt_async]
    submit = RaiaPromptOperator(
        task_id="submit_prompt",
        prompt="Write a 200-word summary of this quarter's support tickets.",
        wait_for_completion=False,  # returns the prompt id; the sensor below waits for the answer
    )
    # [END howto_operator_raia_prompt_async]

    # [START howto_sensor_raia_prompt]
    wait = RaiaPromptSensor(
        task_id="wait_for_answer",
        prompt_id="{{ ti.xcom_pull(task_ids='submit_prompt') }}",  # the id the submit task returned
        deferrable=True,
        poke_interval=2,
        timeout=timedelta(minutes=30),
    )
    # [END howto_sensor_raia_prompt]

    @task
    def report(answer: dict[str, Any]) -> None:
        print(f"raia answered prompt {answer['prompt_id']}: {answer['response']} ({answer['total_tokens']} tokens)")

    submit >> wait
    report(wait.output)  # type: ignore[arg-type]  # an XComArg, resolved at run time


example_raia_async_prompt()
