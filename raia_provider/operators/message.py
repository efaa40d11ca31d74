"""``RaiaSendMessageOperator``: post a user message into a conversation and keep the agent's reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from raia_provider.engines.attachments import Attachments
from raia_provider.engines.polling import PollTarget, result_from_event
from raia_provider.operations.conversations import SubmitMessage
from raia_provider.operators._waiting import RaiaWaitingOperator, reattach_or_submit, rendered_id

if TYPE_CHECKING:
    from airflow.sdk import Context

    from raia_provider._core.multipart import FilePart
    from raia_provider.models.conversations import MessageFile

#: Where a task remembers its submitted message across retries (Airflow 3.3+).
_MEMORY_KEY = "raia_message"
#: Where it remembers the files it uploaded, so a retry does not upload them again.
_FILES_MEMORY_KEY = "raia_message_files"


class RaiaSendMessageOperator(RaiaWaitingOperator):
    """Send a message into a conversation as its user and return the agent's reply as plain JSON.

    By default the message goes to ``POST /conversations/{id}/messages`` and the worker waits for the reply
    in that call. With ``deferrable=True`` it goes to ``messages/async``, the sent message's id is pushed to
    XCom (key ``question_message_id``) and the wait moves to the triggerer
    (:class:`~raia_provider.triggers.raia.RaiaMessageReplyTrigger`).

    The result is ``{"conversation_id", "question_message_id", "message_id", "response", "status"}``,
    where ``response`` is the reply's text. On the deferrable path a reply raia reports ``failed`` raises
    :class:`~raia_provider.exceptions.RaiaMessageFailedError`; on the blocking path raia answers a failed
    reply with the spec's bare 500, which is retried as a server fault and ends as
    :class:`~raia_provider.exceptions.RaiaServerError`.

    ``files`` attaches documents to the message: each is uploaded through a signed URL raia hands out for
    the conversation (streamed to the storage host, which never sees the key) before the message is sent;
    every file is checked before any request.

    On a retry of a deferrable task (Airflow 3.3+), the message from an earlier try is not sent again
    while raia is still answering it, or has answered it; on any retry (3.3+), files an earlier try uploaded
    are not uploaded again.

    .. seealso::
        :ref:`howto/operator:RaiaSendMessageOperator`

    :param conversation_id: the conversation, e.g. the return value of ``RaiaStartConversationOperator``
        (templated).
    :param message: the user's message (templated).
    :param message_context: context for this message only, sent as raia's ``context`` (templated; not named
        ``context`` so as not to be confused with Airflow's task context).
    :param raia_conn_id: the ``raia`` connection.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between looks at the reply on the deferrable path.
    :param timeout: how long to wait for the reply (seconds or a ``timedelta``): the request's read
        timeout on the blocking path, the trigger's deadline on the deferrable path.
    """

    template_fields: Sequence[str] = ("conversation_id", "message", "message_context", "files")
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        conversation_id: str,
        message: str,
        message_context: str | None = None,
        files: Any = None,
        file_content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conversation_id = conversation_id
        self.message = message
        self.message_context = message_context
        self.files = files
        self.file_content_type = file_content_type

    def execute(self, context: Context) -> Any:
        """Send the message; return the reply (deferring first on the deferrable path)."""
        # Building the request checks every argument and raises RaiaInputError before any request.
        conversation_id = rendered_id(self.conversation_id, "conversation_id", "a conversation", type(self).__name__)
        arguments: dict[str, Any] = {"message": self.message, "context": self.message_context}
        SubmitMessage.build(conversation_id=conversation_id, **arguments)
        attachments = Attachments.from_argument(self.files, content_type=self.file_content_type)
        if attachments is not None:

            def upload(part: FilePart) -> MessageFile:
                return self.hook.upload_message_file(conversation_id=conversation_id, source=part)

            arguments["files"] = attachments.upload(context, upload, memory_key=_FILES_MEMORY_KEY)
        request = SubmitMessage.build(conversation_id=conversation_id, **arguments)
        if not self.deferrable:
            reply = self.hook.process_message(conversation_id=conversation_id, **arguments)
            self.log.info("raia replied in conversation %s (message %s)", reply.conversation_id, reply.id)
            return {
                "conversation_id": reply.conversation_id,
                "question_message_id": reply.conversation_message_id,
                "message_id": reply.id,
                "response": reply.message,
                "status": "completed",
            }

        def submit() -> PollTarget:
            sent = self.hook.send(request)
            return PollTarget.message(conversation_id, sent.id)

        payload = {"conversation_id": conversation_id, **request.model_dump(mode="json", exclude_none=True)}
        target = reattach_or_submit(
            context, self.hook, memory_key=_MEMORY_KEY, payload=payload, submit=submit, log=self.log
        )
        context["ti"].xcom_push(key="question_message_id", value=target.ids["question_message_id"])
        self.defer_until_answered(target)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the reply, or raise what the event reports.

        :param context: the task's context.
        :param event: the trigger's event.
        """
        result = result_from_event(event, "message")
        self.log.info("raia replied in conversation %s (message %s)", result["conversation_id"], result["message_id"])
        return result
