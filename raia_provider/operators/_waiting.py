"""What the operators and the sensor that wait for an answer share: defer, resume, re-attach.

A submitted prompt or message is remembered in the task's memory (:class:`TaskMemory`), so a retry of
the task re-attaches to the answer being prepared instead of asking raia again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import conf

from raia_provider._core import clock
from raia_provider._core.retry import RetryPolicy
from raia_provider.engines.polling import PollTarget
from raia_provider.engines.task_memory import TaskMemory
from raia_provider.exceptions import RaiaError, RaiaInputError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.base import RaiaBaseOperator
from raia_provider.triggers.raia import RaiaMessageReplyTrigger, RaiaPromptTrigger

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

#: Beyond the trigger's own deadline, so that its clean ``timeout`` event wins over Airflow's backstop.
_DEFER_GRACE_SECONDS = 60.0


def seconds(value: float | timedelta, name: str, owner: str) -> float:
    """Read a positive duration given as seconds or a ``timedelta``; refuse anything else.

    :param value: the argument's value.
    :param name: the argument's name, for the error message.
    :param owner: the operator's class name, for the error message.
    """
    number = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(number, bool) or not isinstance(number, int | float) or not number > 0:
        raise RaiaInputError(f"{owner}: {name} must be a positive number of seconds or a timedelta, got {value!r}")
    return float(number)


def rendered_id(value: Any, name: str, what: str, owner: str) -> str:
    """Return a templated id, refusing what a template that pulled nothing renders to.

    :param value: the argument's rendered value.
    :param name: the argument's name, for the error message.
    :param what: what the id names, e.g. ``"an async prompt"``.
    :param owner: the operator's class name, for the error message.
    """
    # An xcom_pull that found nothing renders as "None": not an id raia could know.
    if not isinstance(value, str) or value.strip() in ("", "None"):
        raise RaiaInputError(
            f"{owner}: {name} must be the non-empty id of {what}, got {value!r}"
            " (did the upstream task push it, and does the template pull the right task and key?)"
        )
    return value.strip()


def trigger_for(
    target: PollTarget, *, conn_id: str, poll_interval: float, end_time: float
) -> RaiaPromptTrigger | RaiaMessageReplyTrigger:
    """The trigger that waits for ``target``.

    :param target: what to wait for.
    :param conn_id: the ``raia`` connection.
    :param poll_interval: seconds between reads.
    :param end_time: the wall-clock deadline.
    """
    if target.kind == "prompt":
        return RaiaPromptTrigger(conn_id=conn_id, poll_interval=poll_interval, end_time=end_time, **target.ids)
    return RaiaMessageReplyTrigger(conn_id=conn_id, poll_interval=poll_interval, end_time=end_time, **target.ids)


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A digest of what was asked, so a retry re-attaches only to the very same question.

    :param payload: the request's JSON body.
    """
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class WaitsForAnswer:
    """Mixin for raia tasks that wait for a prompt's answer or a message's reply.

    The class using it sets ``raia_conn_id``, ``poll_interval`` and ``wait_timeout`` (seconds).
    """

    raia_conn_id: str
    poll_interval: float
    wait_timeout: float

    def defer_until_answered(self: Any, target: PollTarget, resume_with: dict[str, Any] | None = None) -> NoReturn:
        """Hand the wait to the triggerer; the task resumes in ``execute_complete``.

        :param target: what to wait for.
        :param resume_with: keyword arguments ``execute_complete`` gets besides the event (plain JSON).
        """
        task: BaseOperator = self
        backstop = timedelta(seconds=self.wait_timeout + self.poll_interval + _DEFER_GRACE_SECONDS)
        task.defer(
            trigger=trigger_for(
                target,
                conn_id=self.raia_conn_id,
                poll_interval=self.poll_interval,
                end_time=clock.now() + self.wait_timeout,
            ),
            method_name="execute_complete",
            kwargs=resume_with,
            timeout=task.execution_timeout or backstop,
        )


class RaiaWaitingOperator(WaitsForAnswer, RaiaBaseOperator):
    """Base of the operators that send something and wait for raia's answer (blocking or deferred).

    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds (or a ``timedelta``) between looks on the deferrable path.
    :param timeout: how long to wait (seconds or a ``timedelta``): the request's read timeout and retry
        deadline on the blocking path, the trigger's deadline on the deferrable path.
    """

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | timedelta = 5.0,
        timeout: float | timedelta = 600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.poll_interval = seconds(poll_interval, "poll_interval", type(self).__name__)
        self.wait_timeout = seconds(timeout, "timeout", type(self).__name__)

    @cached_property
    def hook(self) -> RaiaHook:
        """The hook, with the read timeout and a retry deadline of this task's ``timeout``."""
        policy = RetryPolicy(max_elapsed=self.wait_timeout)
        return RaiaHook(self.raia_conn_id, read_timeout=self.wait_timeout, retry_policy=policy)


def reattach_or_submit(
    context: Mapping[str, Any],
    hook: RaiaHook,
    *,
    memory_key: str,
    payload: Mapping[str, Any],
    submit: Callable[[], PollTarget],
    log: Any,
) -> PollTarget:
    """Return the target of an earlier try of this task for the same question, or submit it now.

    An earlier try's prompt (or message) is re-used while raia still prepares it or has answered it; one
    that failed, or that raia no longer knows, is asked again. Needs Airflow 3.3's task state store;
    on older Airflow every try submits anew.

    :param context: the task's context.
    :param hook: the hook to look at the earlier target with.
    :param memory_key: where the task remembers its target.
    :param payload: the question's JSON body; a changed question is never re-attached to.
    :param submit: sends the question and returns what to wait for.
    :param log: the task's logger.
    """
    memory = TaskMemory(context)
    digest = fingerprint(payload)
    remembered = memory.get(memory_key)
    if isinstance(remembered, dict) and remembered.get("fingerprint") == digest:
        earlier = PollTarget(remembered["kind"], dict(remembered["ids"]))
        try:
            status = earlier.read(hook).status
        except RaiaError as exc:
            log.warning("An earlier try's %s cannot be read (%s); asking again.", earlier.describe(), exc)
        else:
            if status != "failed":
                log.info("Re-attaching to the %s from an earlier try (%s).", earlier.describe(), status)
                return earlier
            log.info("The %s from an earlier try failed; asking again.", earlier.describe())
    target = submit()
    memory.set(memory_key, {"fingerprint": digest, "kind": target.kind, "ids": target.ids})
    return target
