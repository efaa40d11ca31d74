"""``RaiaPromptOperator``: ask the agent one question and keep its answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from raia_provider.engines.answers import AnswerShape, OutputFormat, agent_answer_shape
from raia_provider.engines.attachments import Attachments
from raia_provider.engines.polling import PollTarget, prompt_output, result_from_event
from raia_provider.exceptions import RaiaPromptFailedError, RaiaResponseError
from raia_provider.operations.prompts import CreatePrompt, ProcessPrompt
from raia_provider.operators._waiting import RaiaWaitingOperator, reattach_or_submit

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Where a task remembers its async prompt across retries (Airflow 3.3+).
_MEMORY_KEY = "raia_prompt"
#: Where it remembers the files it uploaded, so a retry does not upload them again.
_FILES_MEMORY_KEY = "raia_prompt_files"


class RaiaPromptOperator(RaiaWaitingOperator):
    """Send a prompt to the raia agent and return its answer as plain JSON.

    By default the prompt goes to ``POST /prompts`` and the worker waits for the answer in that call. With
    ``deferrable=True`` it goes to ``POST /prompts/async``; the ``prompt_id`` is pushed to XCom at once and
    the wait moves to the triggerer (:class:`~raia_provider.triggers.raia.RaiaPromptTrigger`), freeing
    the worker slot. With ``wait_for_completion=False`` the task only submits the async prompt and returns
    its id, for a :class:`~raia_provider.sensors.raia.RaiaPromptSensor` downstream.

    The result is ``{"response": str, "total_tokens": int | None, "status": "completed"}``, plus
    ``"prompt_id"`` for an async prompt. A prompt raia reports ``failed`` raises
    :class:`~raia_provider.exceptions.RaiaPromptFailedError` with raia's error text.

    With ``output_format="json"`` or an ``output_schema`` the answer is parsed (and validated): the result's
    ``"response"`` is the parsed object, and an answer that is not JSON or breaks the schema raises
    :class:`~raia_provider.exceptions.RaiaAnswerFormatError` naming the JSON path and the reason. With
    neither, the agent's own output JSON schema applies when its profile has one enabled (read with one
    ``GET /agents/by-api-key`` per task; ``output_format="text"`` keeps the answer as text without it).

    ``files`` attaches documents: each is uploaded through a signed URL raia hands out (streamed to the
    storage host, which never sees the connection's key), then the prompt names them. Every file is checked
    before any request.

    On a retry of the task (Airflow 3.3+), an async prompt from an earlier try that raia is still
    answering, or has answered, is re-used instead of being asked again, and files an earlier try uploaded
    are not uploaded again.

    .. seealso::
        :ref:`howto/operator:RaiaPromptOperator`

    :param prompt: the question for the agent (templated; a file ending in ``.txt``, ``.md`` or ``.j2`` is
        read and rendered as the template).
    :param token_tracking_id: a tag raia stores with the token usage, e.g. ``"{{ dag.dag_id }}"`` (templated).
    :param files: files to attach: a path, a glob, a folder, an ``ObjectStoragePath`` or a list of those
        (templated; unlike ``prompt``, a name ending in ``.txt`` or ``.md`` is attached, not read as a template).
    :param file_content_type: the MIME type of every attached file (default: guessed from each name).
    :param output_format: ``"json"`` parses the answer as JSON, ``"text"`` keeps it as text; ``None``
        (default) follows the agent's profile.
    :param output_schema: a JSON Schema (dict) or a pydantic model class the answer must match; implies
        ``output_format="json"``. A model's answer is returned as its plain-JSON dump.
    :param raia_conn_id: the ``raia`` connection.
    :param deferrable: wait in the triggerer instead of on a worker (default: ``[operators]
        default_deferrable``).
    :param wait_for_completion: wait for the answer; ``False`` returns the async prompt's id at once.
    :param poll_interval: seconds between looks at an async prompt (seconds or a ``timedelta``).
    :param timeout: how long to wait for the answer (seconds or a ``timedelta``): the request's read
        timeout on the blocking path, the trigger's deadline on the deferrable path.
    """

    template_fields: Sequence[str] = ("prompt", "token_tracking_id", "files")
    template_ext: Sequence[str] = (".txt", ".md", ".j2")
    template_fields_renderers: ClassVar[dict[str, str]] = {"prompt": "md"}
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        prompt: str,
        token_tracking_id: str | None = None,
        files: Any = None,
        file_content_type: str | None = None,
        wait_for_completion: bool = True,
        output_format: OutputFormat | None = None,
        output_schema: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prompt = prompt
        self.token_tracking_id = token_tracking_id
        self.files = files
        self.file_content_type = file_content_type
        self.wait_for_completion = wait_for_completion
        self.output_format = output_format
        self.output_schema = output_schema
        self._follows_agent = output_format is None and output_schema is None
        # Checked when the DAG is parsed; jsonschema is already imported by airflow.sdk, so this costs nothing.
        self._answer_shape = AnswerShape.from_arguments(
            output_format=output_format, output_schema=output_schema, owner=f"{type(self).__name__} {self.task_id!r}"
        )

    def execute(self, context: Context) -> Any:
        """Ask the agent; return the answer (or, without ``wait_for_completion``, the prompt's id)."""
        arguments: dict[str, Any] = {"prompt": self.prompt, "token_tracking_id": self.token_tracking_id}
        # Building the request and finding the files raise RaiaInputError before any request.
        blocking = self.wait_for_completion and not self.deferrable
        (ProcessPrompt if blocking else CreatePrompt).build(**arguments)
        attachments = Attachments.from_argument(self.files, content_type=self.file_content_type)
        if self._follows_agent and self.wait_for_completion:
            self._answer_shape = agent_answer_shape(self.hook)
        if attachments is not None:
            arguments["files"] = attachments.upload(context, self.hook.upload_prompt_file, memory_key=_FILES_MEMORY_KEY)
        if blocking:
            return self._ask_and_wait(arguments)
        request = CreatePrompt.build(**arguments)

        def submit() -> PollTarget:
            return PollTarget.prompt(self.hook.send(request).prompt_id)

        payload = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        target = reattach_or_submit(
            context, self.hook, memory_key=_MEMORY_KEY, payload=payload, submit=submit, log=self.log
        )
        prompt_id = target.ids["prompt_id"]
        context["ti"].xcom_push(key="prompt_id", value=prompt_id)
        self.log.info("raia prompt %s submitted", prompt_id)
        if not self.wait_for_completion:
            return prompt_id
        shape = self._answer_shape
        agent_output = None if shape is None else {"schema": shape.portable_schema}
        self.defer_until_answered(target, {"agent_output": agent_output} if self._follows_agent else None)

    def _ask_and_wait(self, arguments: dict[str, Any]) -> dict[str, Any]:
        answer = self.hook.process_prompt(**arguments)
        if answer.status == "failed":
            error = self.hook.redact(answer.error or "raia gave no error text")
            raise RaiaPromptFailedError(f"raia reports the prompt failed: {error}", raia_error=error)
        if answer.status != "completed":
            raise RaiaResponseError(
                f"raia answered a synchronous prompt with status {answer.status!r} and no prompt id to poll; "
                "use deferrable=True (async prompt) for long-running questions"
            )
        self._log_answer(answer.total_tokens)
        return self._as_data(prompt_output(None, answer))

    def resolve_template_files(self) -> None:
        """Read ``prompt`` from its file when it names one; ``files`` are attachments, never templates."""
        files, self.files = self.files, None
        try:
            super().resolve_template_files()
        finally:
            self.files = files

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render the templated fields; ``files`` as paths (Airflow would read a ``.txt``/``.md`` one as a template).

        :param context: the task's context.
        :param jinja_env: the Jinja environment, if any.
        """
        files, self.files = self.files, None
        try:
            super().render_template_fields(context, jinja_env)
        finally:
            self.files = files
        # template_ext applies to every templated field: hide it while rendering the attachments' names.
        self.template_ext = ()
        try:
            self.files = self.render_template(files, context, jinja_env)
        finally:
            del self.template_ext

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, agent_output: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after the trigger fired: return the answer, or raise what the event reports.

        :param context: the task's context.
        :param event: the trigger's event.
        :param agent_output: the agent's output schema as read before deferring (``{"schema": ...}``), or
            ``None`` when it answers in text.
        """
        if self._follows_agent:
            self._answer_shape = None if agent_output is None else AnswerShape(schema=agent_output.get("schema"))
        result = result_from_event(event, "prompt")
        self._log_answer(result.get("total_tokens"))
        return self._as_data(result)

    def _as_data(self, result: dict[str, Any]) -> dict[str, Any]:
        """The result with its answer parsed, when a structured answer was asked for."""
        if self._answer_shape is None:
            return result
        return {**result, "response": self._answer_shape.parse(result["response"])}

    def _log_answer(self, total_tokens: Any) -> None:
        self.log.info("raia answered (%s tokens)", total_tokens)
