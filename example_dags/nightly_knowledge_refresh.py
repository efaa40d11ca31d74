"""Nightly knowledge refresh in one idempotent step: the agent's knowledge mirrors a folder of documents.

``RaiaSyncKnowledgeOperator`` lists the agent's files, compares them with the folder (by name and content
hash), logs the plan, uploads what is new or changed straight into the vector store, waits until raia has
processed it, and only then removes what is stale. A night on which nothing changed makes no upload and no
delete. When the knowledge changed, the run emits an event on the Asset ``raia://<region>/agents/<agent
id>/files`` through the AssetAlias ``raia-knowledge:raia_default``; a downstream DAG can be scheduled on it.

The folder is a run parameter: trigger with ``{"source": "s3://bucket/kb"}`` (or any ``ObjectStoragePath``
URL) to mirror object storage instead.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag

from raia_provider.operators.knowledge import RaiaSyncKnowledgeOperator

DOCUMENTS = Path(__file__).parent / "data" / "knowledge"


@dag(
    dag_id="nightly_knowledge_refresh",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # two syncs of one agent at once would race each other's plans
    params={"source": Param(str(DOCUMENTS), type="string", description="The folder or prefix to mirror")},
    tags=["raia", "example"],
)
def nightly_knowledge_refresh() -> None:
    """Mirror the documents folder into the agent's knowledge."""
    # [START howto_operator_raia_sync_knowledge]
    RaiaSyncKnowledgeOperator(
        task_id="sync_knowledge",
        source="{{ params.source }}",  # a local folder, s3://bucket/prefix, or an ObjectStoragePath
        include=["**/*.md", "**/*.pdf"],
        exclude=["drafts/**"],
        max_delete_ratio=0.5,  # refuse to remove most of the knowledge because the folder came up empty
        poll_interval=2,
    )
    # [END howto_operator_raia_sync_knowledge]


nightly_knowledge_refresh()
