"""What a task remembers across its own retries, so a retry re-attaches instead of repeating work.

Airflow clears a task's XCom when the task is retried, so an id pushed there is gone by the next try.
Airflow 3.3 added a task state store (``context["task_state_store"]``) that survives retries of the same
task instance; it is used when present. On older Airflow nothing is remembered and a retry starts over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)


class TaskMemory:
    """A small key-value memory scoped to one task instance, kept across its retries where Airflow allows.

    :param context: the task's execution context.
    """

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._store = context.get("task_state_store")

    @property
    def available(self) -> bool:
        """Whether this Airflow keeps task state across retries (3.3+)."""
        return self._store is not None

    def get(self, key: str) -> Any:
        """Return what was remembered under ``key`` by an earlier try, or ``None``.

        :param key: the name it was remembered under.
        """
        return None if self._store is None else self._store.get(key)

    def set(self, key: str, value: Any) -> None:
        """Remember a JSON value under ``key`` for later tries; a no-op before Airflow 3.3.

        :param key: the name to remember it under.
        :param value: a JSON value (str, number, bool, list or dict), never ``None``.
        """
        if self._store is None:
            log.debug("No task state store on this Airflow: a retry will not see %s", key)
            return
        self._store.set(key, value)
