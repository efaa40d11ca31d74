"""Triggers that wait, in the triggerer's event loop, for an answer raia produces in the background.

Both run the provider's one poll loop (:mod:`raia_provider.engines.polling`) with the hook's async
transport, so a deferred task holds no worker slot and never blocks the event loop. They serialize ids,
the connection id, the poll interval and a wall-clock deadline: never the key, never a client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from raia_provider._core import clock
from raia_provider._core.retry import SINGLE_ATTEMPT, RetryPolicy
from raia_provider.engines.polling import POLL_RETRY_POLICY, PollTarget, arun_poll, poll_steps
from raia_provider.hooks.raia import RaiaHook


class _RaiaPollTrigger(BaseTrigger):
    """Poll one :class:`~raia_provider.engines.polling.PollTarget` until it is answered; yield one event.

    :param conn_id: the ``raia`` connection.
    :param poll_interval: seconds between reads while the answer is pending.
    :param end_time: the wall-clock deadline (``time.time()`` seconds); wall clock because the trigger may
        resume in another triggerer process after a restart.
    """

    #: Attempts and backoff for failed reads (transient ones are tolerated this many times in a row).
    retry_policy: ClassVar[RetryPolicy] = POLL_RETRY_POLICY

    def __init__(self, *, conn_id: str, poll_interval: float, end_time: float) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.conn_id = conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = float(end_time)
        self._hook: RaiaHook | None = None

    @property
    def target(self) -> PollTarget:
        """What this trigger waits for."""
        raise NotImplementedError

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments to rebuild this trigger (no secrets)."""
        kwargs = {**self.target.ids, "conn_id": self.conn_id, "poll_interval": self.poll_interval}
        return f"{type(self).__module__}.{type(self).__qualname__}", {**kwargs, "end_time": self.end_time}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the answer is completed or failed, the deadline passes, or reads keep failing.

        Yields exactly one event: ``success`` (with ``result``), ``failed``, ``timeout`` or ``error``.
        """
        hook = self._hook = RaiaHook(self.conn_id, retry_policy=SINGLE_ATTEMPT)
        target = self.target
        self.log.info("Waiting for the %s (every %.1f s)", target.describe(), self.poll_interval)
        steps = poll_steps(target, poll_interval=self.poll_interval, end_time=self.end_time, policy=self.retry_policy)
        try:
            event = await arun_poll(steps, lambda: target.aread(hook), clock.asleep)
        finally:
            await self.cleanup()
        for field in ("message", "error"):  # belt and braces: nothing in an event may carry the key
            if isinstance(event.get(field), str):
                event[field] = hook.redact(event[field])
        self.log.info("%s", event["message"])
        yield TriggerEvent(event)  # type: ignore[no-untyped-call]

    async def cleanup(self) -> None:
        """Let go of the hook's share of the loop's HTTP client (also when the triggerer cancels the wait).

        The client is shared by every trigger on the triggerer's loop; it is closed with the last of them.
        """
        if self._hook is not None:
            await self._hook.aclose()


class RaiaPromptTrigger(_RaiaPollTrigger):
    """Wait for an async prompt (``GET /prompts/{id}/response-on``) to be answered.

    :param prompt_id: the ``promptId`` raia returned for the prompt.
    :param conn_id: the ``raia`` connection.
    :param poll_interval: seconds between reads while the answer is pending.
    :param end_time: the wall-clock deadline (``time.time()`` seconds).
    """

    def __init__(self, *, prompt_id: str, conn_id: str, poll_interval: float, end_time: float) -> None:
        super().__init__(conn_id=conn_id, poll_interval=poll_interval, end_time=end_time)
        self.prompt_id = prompt_id

    @property
    def target(self) -> PollTarget:
        """The prompt."""
        return PollTarget.prompt(self.prompt_id)


class RaiaMessageReplyTrigger(_RaiaPollTrigger):
    """Wait for the agent's reply to a message sent with ``messages/async``.

    :param conversation_id: the conversation's id.
    :param question_message_id: the id of the message that was sent.
    :param conn_id: the ``raia`` connection.
    :param poll_interval: seconds between reads while the reply is pending.
    :param end_time: the wall-clock deadline (``time.time()`` seconds).
    """

    def __init__(
        self, *, conversation_id: str, question_message_id: str, conn_id: str, poll_interval: float, end_time: float
    ) -> None:
        super().__init__(conn_id=conn_id, poll_interval=poll_interval, end_time=end_time)
        self.conversation_id = conversation_id
        self.question_message_id = question_message_id

    @property
    def target(self) -> PollTarget:
        """The reply."""
        return PollTarget.message(self.conversation_id, self.question_message_id)
