"""Nightly knowledge refresh: upload a folder of documents into the agent's vector store, prune stale files.

``RaiaUploadFilesOperator`` streams every document matched by a glob (a local folder here; an
``ObjectStoragePath`` such as ``s3://bucket/kb/*.md`` works the same) and adds each one to the agent's
vector store. A second task then removes what is stale: files whose document is no longer in the folder,
and older copies of the documents just uploaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import dag, task

from raia_provider.operators.files import RaiaUploadFilesOperator

DOCUMENTS = Path(__file__).parent / "data" / "knowledge"


@dag(
    dag_id="example_raia_knowledge_refresh",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["raia", "example"],
)
def example_raia_knowledge_refresh() -> None:
    """Upload the documents, then delete the agent files that no longer match them."""
    # [START howto_operator_raia_upload_files]
    upload = RaiaUploadFilesOperator(
        task_id="upload_documents",
        paths=str(DOCUMENTS / "*.md"),  # a path, a list, a glob, or an ObjectStoragePath
        vector_store="auto",  # add each file to the vector store with its upload
    )
    # [END howto_operator_raia_upload_files]

    @task
    def remove_stale(uploaded: dict[str, Any]) -> list[str]:
        from raia_provider.hooks.raia import RaiaHook

        hook = RaiaHook()
        kept = {item["file_id"] for item in uploaded["files"]}
        # The folder is the agent's whole knowledge here: every other file is stale (a document gone from
        # the folder, or an older copy of one uploaded again just now).
        stale = [agent_file.id for agent_file in hook.list_agent_files() if agent_file.id not in kept]
        if stale:
            hook.delete_agent_files(file_ids=stale)
        print(f"uploaded {uploaded['uploaded']} documents, removed {len(stale)} stale files")
        return stale

    remove_stale(upload.output)  # type: ignore[arg-type]  # an XComArg, resolved at run time


example_raia_knowledge_refresh()
