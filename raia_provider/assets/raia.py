"""The ``raia://`` Asset URI scheme: an agent's knowledge, ``raia://<region>/agents/<agent id>/files``.

Registered in the provider info (``asset-uris``), so Airflow checks every ``raia://`` Asset a DAG declares
with :func:`sanitize_uri` when the DAG is parsed, and :func:`create_asset` builds one from its parts.
``RaiaSyncKnowledgeOperator`` emits an event on this Asset whenever it changes the agent's knowledge, so a
downstream DAG can be scheduled on it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult

from raia_provider._core.form import REGION_BASE_URLS

if TYPE_CHECKING:
    from airflow.sdk import Asset

SCHEME = "raia"
_KNOWLEDGE_PATH = re.compile(r"/agents/(?P<agent_id>[A-Za-z0-9._~-]+)/files")


def knowledge_uri(*, region: str, agent_id: str) -> str:
    """The URI of an agent's knowledge (its files and vector store).

    :param region: ``us`` or ``eu``.
    :param agent_id: the agent's id, as ``GET /agents/by-api-key`` reports it.
    :raises ValueError: if the region or the id cannot form a valid URI.
    """
    uri = f"{SCHEME}://{region}/agents/{agent_id}/files"
    _check(region, f"/agents/{agent_id}/files", uri)
    return uri


def create_asset(*, region: str, agent_id: str, extra: dict[str, Any] | None = None) -> Asset:
    """An Asset for an agent's knowledge (the factory registered for the ``raia`` scheme).

    :param region: ``us`` or ``eu``.
    :param agent_id: the agent's id.
    :param extra: the Asset's ``extra``.
    """
    from airflow.sdk import Asset

    return Asset(uri=knowledge_uri(region=region, agent_id=agent_id), extra=extra)


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Check a ``raia://`` URI when Airflow parses an Asset (the handler registered for the scheme).

    :param uri: the URI, split.
    :raises ValueError: naming the part that is wrong and the form expected.
    """
    _check(uri.netloc, uri.path, uri.geturl())
    if uri.query or uri.fragment:
        raise ValueError(f"raia Asset URI {uri.geturl()!r} must not have a query or fragment")
    return uri


def _check(region: str, path: str, whole: str) -> None:
    expected = f"expected {SCHEME}://<region>/agents/<agent id>/files"
    if region not in REGION_BASE_URLS:
        allowed = ", ".join(sorted(REGION_BASE_URLS))
        raise ValueError(f"raia Asset URI {whole!r}: the region must be one of {allowed}; {expected}")
    if not _KNOWLEDGE_PATH.fullmatch(path):
        raise ValueError(f"raia Asset URI {whole!r}: {expected}")
