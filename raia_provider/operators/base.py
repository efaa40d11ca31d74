"""What every raia operator shares: the connection argument and a hook built at first use."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from raia_provider._core.form import DEFAULT_CONN_ID
from raia_provider.hooks.raia import RaiaHook


class RaiaBaseOperator(BaseOperator):
    """Base of the raia operators: holds ``raia_conn_id`` and builds the :class:`RaiaHook` lazily.

    Nothing is looked up when the DAG file is parsed; the connection is read when the task runs.

    :param raia_conn_id: the ``raia`` connection to use.
    """

    def __init__(self, *, raia_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.raia_conn_id = raia_conn_id

    @cached_property
    def hook(self) -> RaiaHook:
        """The hook this task talks to raia with (one keep-alive session per task run)."""
        return RaiaHook(self.raia_conn_id)
