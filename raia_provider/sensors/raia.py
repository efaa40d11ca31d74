"""``RaiaPromptSensor``: wait for an async prompt's answer, poking or deferred."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseSensorOperator, PokeReturnValue, conf

from raia_provider._core.form import DEFAULT_CONN_ID
from raia_provider.engines.polling import PollTarget, result_from_event
from raia_provider.exceptions import RaiaPromptFailedError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators._waiting import WaitsForAnswer, rendered_id, seconds
from raia_provider.operators.base import NamesTemplateErrors

if TYPE_CHECKING:
    from airflow.sdk import Context


class RaiaPromptSensor(NamesTemplateErrors, WaitsForAnswer, BaseSensorOperator):
    """Wait until raia has answered an async prompt; return the answer through XCom.

    Typically downstream of ``RaiaPromptOperator(wait_for_completion=False)``, whose return value is the
    prompt id. In the classic modes (``poke`` / ``reschedule``) each poke reads
    ``GET /prompts/{id}/response-on`` once. With ``deferrable=True`` the sensor pokes once, then hands
    the wait to :class:`~raia_provider.triggers.raia.RaiaPromptTrigger` and frees its worker slot.

    Returns ``{"response", "total_tokens", "status", "prompt_id"}``. A prompt raia reports ``failed``
    raises :class:`~raia_provider.exceptions.RaiaPromptFailedError`.

    .. seealso::
        :ref:`howto/sensor:RaiaPromptSensor`

    :param prompt_id: the async prompt's id, e.g.
        ``"{{ ti.xcom_pull(task_ids='submit', key='prompt_id') }}"`` (templated).
    :param raia_conn_id: the ``raia`` connection.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poke_interval: seconds between looks (also the trigger's poll interval).
    :param timeout: seconds (or a ``timedelta``) before the sensor gives up.
    """

    template_fields: Sequence[str] = ("prompt_id",)
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        prompt_id: str,
        raia_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float | timedelta = 10.0,
        timeout: float | timedelta = 3600.0,
        **kwargs: Any,
    ) -> None:
        name = type(self).__name__
        super().__init__(
            poke_interval=seconds(poke_interval, "poke_interval", name),
            timeout=seconds(timeout, "timeout", name),
            **kwargs,
        )
        self.prompt_id = prompt_id
        self.raia_conn_id = raia_conn_id
        self.deferrable = deferrable

    @property
    def poll_interval(self) -> float:  # type: ignore[override]
        """The trigger polls as often as the sensor pokes."""
        return float(self.poke_interval)

    @property
    def wait_timeout(self) -> float:  # type: ignore[override]
        """The trigger's deadline is the sensor's timeout."""
        return float(self.timeout)

    @cached_property
    def hook(self) -> RaiaHook:
        """The hook the pokes read with."""
        return RaiaHook(self.raia_conn_id)

    def _target(self) -> PollTarget:
        return PollTarget.prompt(rendered_id(self.prompt_id, "prompt_id", "an async prompt", type(self).__name__))

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Look at the prompt once: not ready, answered (with the answer), or failed (raises)."""
        target = self._target()
        reading = target.read(self.hook)
        if reading.status == "pending":
            self.log.info("raia prompt %s is still pending", target.ids["prompt_id"])
            return False
        if reading.status == "failed":
            raise RaiaPromptFailedError(
                f"raia reports the prompt {target.ids['prompt_id']} failed: {reading.error}",
                prompt_id=target.ids["prompt_id"],
                raia_error=reading.error,
            )
        return PokeReturnValue(is_done=True, xcom_value=reading.result)

    def execute(self, context: Context) -> Any:
        """Poke (classic modes), or poke once and then defer."""
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if isinstance(done, PokeReturnValue):
            return done.xcom_value
        self.defer_until_answered(self._target())

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the answer, or raise what the event reports.

        :param context: the task's context.
        :param event: the trigger's event.
        """
        return result_from_event(event, self._target())
