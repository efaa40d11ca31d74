"""The bad-input catalogue (issue 8): every public entry point refuses bad input before any request.

Each case names one bad argument of one entry point (the hook and its connection, every operator, the
sensor). The test asserts that:

1. our typed error is raised (``RaiaInputError`` or ``RaiaConfigurationError``; never a connection error,
   which is what a request would end in here: no HTTP answer is registered, blocking or async);
2. its message names the argument, says what was wrong and what is allowed;
3. no HTTP request was made (``responses`` for the blocking path, ``tests.aiohttp_mock`` for the async one), and an
   operator did not even build its hook;
4. nothing already done is lost: no XCom was pushed, nothing remembered for a retry, no output or checkpoint
   written; for the multi-item operators (several files, rows or documents, one of them bad) the error comes
   before the first item is sent, so nothing is half-done.

Cases whose argument is templated go through Airflow's rendering (``render_template_fields`` with a real
Jinja context, a DAG's ``StrictUndefined`` environment where it matters) and then ``execute``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from airflow.sdk import DAG, BaseOperator

from raia_provider.exceptions import RaiaConfigurationError, RaiaInputError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.batch import RaiaBatchPromptOperator
from raia_provider.operators.conversation import RaiaStartConversationOperator
from raia_provider.operators.files import RaiaUploadFilesOperator
from raia_provider.operators.knowledge import RaiaSyncKnowledgeOperator
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.operators.webhook import RaiaCreateWebhookOperator
from raia_provider.sensors.raia import RaiaPromptSensor
from tests.aiohttp_mock import mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.task_doubles import FakeStateStore, FakeTI


class TI(FakeTI):
    """A task instance whose ``xcom_pull`` finds nothing, as when the upstream task pushed no id."""

    def xcom_pull(self, *args: Any, **kwargs: Any) -> Any:
        return None


@dataclass
class Env:
    """What a case acts in: a scratch folder, the task context it runs with, and the task it built."""

    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    ti: TI = field(default_factory=TI)
    store: FakeStateStore = field(default_factory=FakeStateStore)
    params: dict[str, Any] = field(default_factory=dict)
    task: BaseOperator | None = None

    def context(self) -> Any:  # an Airflow Context, for the operator
        return {
            "ti": self.ti,
            "task_state_store": self.store,
            "params": self.params,
            "ds": "2026-11-24",
            "run_id": "manual__2026-11-24",
            "outlet_events": {},
        }

    def file(self, name: str, text: str = "some knowledge\n") -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def folder(self, name: str) -> Path:
        path = self.tmp / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, task: BaseOperator, *, render: bool = False, **params: Any) -> Any:
        """Run ``task`` as a worker would: render its templated arguments (if asked), then ``execute``.

        :param params: the run's ``params``, for templates such as ``{{ params.question }}``.
        """
        self.task = task
        self.params.update(params)
        if render:
            task.render_template_fields(self.context())
        return task.execute(self.context())


@dataclass(frozen=True)
class Case:
    """One bad input.

    :param id: the readable test id.
    :param entry: the public entry point.
    :param argument: the argument that is bad (the message must name it).
    :param wrong: what is wrong with it (for the docs table).
    :param error: the exact exception type expected.
    :param fragments: parts of the message: the argument, what was wrong, what is allowed.
    :param act: does what a user would do; must raise.
    :param connection: the ``raia_default`` connection (``AIRFLOW_CONN_*`` JSON) instead of the good one.
    :param check: further "nothing was done" assertions after the error.
    """

    id: str
    entry: str
    argument: str
    wrong: str
    error: type[Exception]
    fragments: tuple[str, ...]
    act: Callable[[Env], Any]
    connection: dict[str, Any] | None = None
    check: Callable[[Env], None] | None = None


GOOD_CONNECTION: dict[str, Any] = {"conn_type": "raia", "password": TEST_KEY, "host": UNIT_BASE_URL}


def conn(**changes: Any) -> dict[str, Any]:
    """The good connection with ``changes`` (a value of ``None`` drops the field)."""
    changed = {**GOOD_CONNECTION, **changes}
    return {key: value for key, value in changed.items() if value is not None}


def ask_blocking(env: Env) -> Any:
    return RaiaHook(read_timeout=5.0).process_prompt(prompt="What is 6 x 7?")


def ask_with_connection(env: Env, **fields: Any) -> Any:
    """Ask with a connection as a secrets backend delivers it (Airflow 3.1's env-var backend refuses bad Extra
    JSON itself; other backends and 3.3 hand it over)."""
    from airflow.sdk import Connection

    delivered = Connection(conn_id="raia_default", **{**GOOD_CONNECTION, **fields})
    env.monkeypatch.setattr(RaiaHook, "get_connection", classmethod(lambda cls, conn_id: delivered))
    return ask_blocking(env)


def ask_async(env: Env) -> Any:
    async def ask() -> Any:
        hook = RaiaHook()
        try:
            return await hook.acreate_prompt(prompt="What is 6 x 7?")
        finally:
            await hook.aclose()

    return asyncio.run(ask())


def async_blank_prompt(env: Env) -> Any:
    async def ask() -> Any:
        hook = RaiaHook()
        try:
            return await hook.acreate_prompt(prompt=" \n ")
        finally:
            await hook.aclose()

    return asyncio.run(ask())


def prompt_task(**arguments: Any) -> RaiaPromptOperator:
    return RaiaPromptOperator(**{"task_id": "ask", "prompt": "What is 6 x 7?", **arguments})


def in_dag(build: Callable[[], BaseOperator]) -> BaseOperator:
    """Build a task inside a DAG, whose templates use Airflow's ``StrictUndefined``."""
    with DAG("bad_input", schedule=None, template_searchpath=[os.getcwd()]):
        return build()


def sensor_task(**arguments: Any) -> RaiaPromptSensor:
    return RaiaPromptSensor(**{"task_id": "wait", "prompt_id": "p-1", **arguments})


def message_task(**arguments: Any) -> RaiaSendMessageOperator:
    return RaiaSendMessageOperator(
        **{"task_id": "send", "conversation_id": "c-1", "message": "Where is my order?", **arguments}
    )


def sms_task(**arguments: Any) -> RaiaStartConversationOperator:
    return RaiaStartConversationOperator(
        **{
            "task_id": "start",
            "channel": "sms",
            "first_name": "Jane",
            "last_name": "Doe",
            "phone_number": "+15551234567",
            "sms_introduction": "Hi Jane, about your order.",
            **arguments,
        }
    )


def email_task(**arguments: Any) -> RaiaStartConversationOperator:
    return RaiaStartConversationOperator(
        **{
            "task_id": "start",
            "channel": "email",
            "first_name": "Jane",
            "last_name": "Doe",
            "user_email": "jane@example.com",
            "email_subject": "Your order",
            "email_introduction": "Hi Jane, about your order.",
            **arguments,
        }
    )


def webhook_task(**arguments: Any) -> RaiaCreateWebhookOperator:
    return RaiaCreateWebhookOperator(
        **{
            "task_id": "webhook",
            "title": "Airflow",
            "description": "Dialog ends",
            "url": "https://hooks.example.com/raia",
            "trigger_condition": "end_dialog",
            **arguments,
        }
    )


def batch_task(env: Env, **arguments: Any) -> RaiaBatchPromptOperator:
    return RaiaBatchPromptOperator(
        **{
            "task_id": "batch",
            "prompt_template": "What is the capital of {{ country }}?",
            "records": [{"country": "France"}, {"country": "Italy"}],
            "output_path": str(env.tmp / "answers.jsonl"),
            **arguments,
        }
    )


def sync_task(env: Env, **arguments: Any) -> RaiaSyncKnowledgeOperator:
    return RaiaSyncKnowledgeOperator(**{"task_id": "sync", "source": str(env.tmp / "kb"), **arguments})


def nothing_written(env: Env) -> None:
    """The batch wrote neither its output nor a checkpoint: a later run starts from a clean slate."""
    assert sorted(p.name for p in env.tmp.iterdir() if p.name.startswith("answers")) == []


def upload_three_one_missing(env: Env) -> Any:
    good = [env.file("kb/a.md"), env.file("kb/c.md")]
    return env.run(RaiaUploadFilesOperator(task_id="upload", paths=[str(good[0]), str(env.tmp / "kb/b.md"), good[1]]))


def upload_unreadable(env: Env) -> Any:
    locked = env.file("kb/locked.md")
    real_access = os.access
    # The suite may run as root, which reads any file: deny read access to this one file only.
    env.monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode))
    return env.run(RaiaUploadFilesOperator(task_id="upload", paths=[str(env.file("kb/a.md")), str(locked)]))


def sync_with_clashing_names(env: Env) -> Any:
    env.file("kb/en/faq.md")
    env.file("kb/de/faq.md")
    env.file("kb/intro.md")
    return env.run(sync_task(env))


def batch_from(env: Env, name: str, content: bytes | None, **arguments: Any) -> Any:
    path = env.tmp / name
    if content is not None:
        path.write_bytes(content)
    return env.run(batch_task(env, records=None, input_path=str(path), **arguments))


CASES: list[Case] = [
    # -- the connection, read by RaiaHook before its first request ---------------------------------------------
    Case(
        "conn-region-unknown",
        "RaiaHook (connection)",
        "Extra region",
        "a region raia does not have",
        RaiaConfigurationError,
        ("'region'", "'asia'", "allowed values", "'us'", "'eu'"),
        ask_blocking,
        connection=conn(extra=json.dumps({"region": "asia"})),
    ),
    Case(
        "conn-extra-typo",
        "RaiaHook (connection)",
        "Extra",
        "an unknown field (a typo of region)",
        RaiaConfigurationError,
        ("unknown Extra field", "'regoin'", "allowed: 'region'"),
        ask_blocking,
        connection=conn(extra=json.dumps({"regoin": "eu"})),
    ),
    Case(
        "conn-extra-not-json",
        "RaiaHook (connection)",
        "Extra",
        "not valid JSON (Airflow alone would read it as {} and fall back to the US region)",
        RaiaConfigurationError,
        ("Extra field is not valid JSON", '{"region": "eu"}'),
        lambda env: ask_with_connection(env, extra='{region: "eu"'),
    ),
    Case(
        "conn-key-empty",
        "RaiaHook (connection)",
        "password (Agent Secret Key)",
        "empty",
        RaiaConfigurationError,
        ("Agent Secret Key (password field) is empty", "Copy the key"),
        ask_blocking,
        connection=conn(password=None),
    ),
    Case(
        "conn-key-inner-whitespace",
        "RaiaHook (connection)",
        "password (Agent Secret Key)",
        "a space inside the key",
        RaiaConfigurationError,
        ("Agent Secret Key (password field) contains whitespace inside it", "Re-enter the key"),
        ask_blocking,
        connection=conn(password="sk-raia-TESTKEY 7f3a9c1e5b"),
    ),
    Case(
        "conn-key-trailing-newline",
        "RaiaHook (connection)",
        "password (Agent Secret Key)",
        "a line break pasted after the key",
        RaiaConfigurationError,
        ("contains whitespace at its start or end", "Re-enter the key"),
        ask_blocking,
        connection=conn(password=TEST_KEY + "\n"),
    ),
    Case(
        "conn-host-no-scheme",
        "RaiaHook (connection)",
        "host (base URL)",
        "no http:// or https://",
        RaiaConfigurationError,
        ("host 'api.raia2.com/external' is not a base URL", "must start with http:// or https://"),
        ask_blocking,
        connection=conn(host="api.raia2.com/external"),
    ),
    Case(
        "conn-host-credentials",
        "RaiaHook (connection)",
        "host (base URL)",
        "user:password@ in the URL",
        RaiaConfigurationError,
        ("host must not carry credentials", "the key goes in password"),
        ask_blocking,
        connection=conn(host="https://admin:hunter22@raia.test/external"),
    ),
    Case(
        "conn-host-bad-port",
        "RaiaHook (connection)",
        "host (base URL)",
        "port out of range",
        RaiaConfigurationError,
        ("host 'https://raia.test:99999/external' has an invalid port", "e.g. https://api.raia2.com/external"),
        ask_blocking,
        connection=conn(host="https://raia.test:99999/external"),
    ),
    Case(
        "conn-host-query",
        "RaiaHook (connection)",
        "host (base URL)",
        "a ?query in the base URL",
        RaiaConfigurationError,
        ("must be a plain base URL without spaces, ?query or #fragment",),
        ask_blocking,
        connection=conn(host="https://raia.test/external?agent=1"),
    ),
    Case(
        "conn-login-set",
        "RaiaHook (connection)",
        "login",
        "a hidden field that raia connections do not use",
        RaiaConfigurationError,
        ("the 'login' field is not used by raia connections", "Put the whole base URL in 'host'"),
        ask_blocking,
        connection=conn(login="agent"),
    ),
    Case(
        "conn-key-whitespace-async",
        "RaiaHook (connection, async)",
        "password (Agent Secret Key)",
        "a space inside the key, read by the async half (triggers)",
        RaiaConfigurationError,
        ("Agent Secret Key (password field) contains whitespace inside it",),
        ask_async,
        connection=conn(password="sk-raia TESTKEY"),
    ),
    # -- RaiaHook arguments ---------------------------------------------------------------------------------------
    Case(
        "hook-connect-timeout-zero",
        "RaiaHook",
        "connect_timeout",
        "zero",
        RaiaInputError,
        ("'connect_timeout'", "greater than 0", "got 0"),
        lambda env: RaiaHook(connect_timeout=0),
    ),
    Case(
        "hook-read-timeout-negative",
        "RaiaHook",
        "read_timeout",
        "negative",
        RaiaInputError,
        ("'read_timeout'", "greater than 0", "got -1"),
        lambda env: RaiaHook(read_timeout=-1),
    ),
    Case(
        "hook-prompt-not-string",
        "RaiaHook.process_prompt",
        "prompt",
        "an int, not a string",
        RaiaInputError,
        ("argument 'prompt'", "valid string", "got 42"),
        lambda env: RaiaHook().process_prompt(prompt=42),
    ),
    Case(
        "hook-prompt-blank-async",
        "RaiaHook.acreate_prompt",
        "prompt",
        "whitespace only, on the async half",
        RaiaInputError,
        ("argument 'prompt'", "must contain text, not only whitespace"),
        async_blank_prompt,
    ),
    Case(
        "hook-conversation-title-too-long",
        "RaiaHook.create_conversation",
        "title",
        "256 characters; raia documents at most 255",
        RaiaInputError,
        ("argument 'title'", "at most 255 characters"),
        lambda env: RaiaHook().create_conversation(conversation_user_id="u-1", title="t" * 256),
    ),
    Case(
        "hook-conversation-context-too-long",
        "RaiaHook.update_conversation",
        "context",
        "256,001 characters; raia documents at most 256,000",
        RaiaInputError,
        ("argument 'context'", "at most 256000 characters"),
        lambda env: RaiaHook().update_conversation(conversation_id="c-1", context="c" * 256_001),
    ),
    # -- RaiaPromptOperator ------------------------------------------------------------------------------------
    Case(
        "prompt-empty",
        "RaiaPromptOperator",
        "prompt",
        "empty string",
        RaiaInputError,
        ("argument 'prompt'", "must contain text"),
        lambda env: env.run(prompt_task(prompt="")),
    ),
    Case(
        "prompt-whitespace",
        "RaiaPromptOperator",
        "prompt",
        "whitespace only (deferrable path)",
        RaiaInputError,
        ("argument 'prompt'", "must contain text, not only whitespace"),
        lambda env: env.run(prompt_task(prompt=" \n\t ", deferrable=True)),
    ),
    Case(
        "prompt-not-string",
        "RaiaPromptOperator",
        "prompt",
        "a list, not a string",
        RaiaInputError,
        ("argument 'prompt'", "valid string"),
        lambda env: env.run(prompt_task(prompt=["What is 6 x 7?"])),
    ),
    Case(
        "prompt-template-renders-blank",
        "RaiaPromptOperator",
        "prompt",
        "a template that renders to whitespace",
        RaiaInputError,
        ("argument 'prompt'", "must contain text, not only whitespace"),
        lambda env: env.run(prompt_task(prompt="{{ params.question }}"), render=True, question="   "),
    ),
    Case(
        "prompt-template-syntax-error",
        "RaiaPromptOperator",
        "prompt",
        "Jinja syntax error (unclosed {{)",
        RaiaInputError,
        ("argument 'prompt'", "cannot be rendered", "TemplateSyntaxError", "task 'ask'"),
        lambda env: env.run(prompt_task(prompt="What is {{ question "), render=True),
    ),
    Case(
        "prompt-template-undefined",
        "RaiaPromptOperator",
        "prompt",
        "an undefined variable (the DAG's StrictUndefined)",
        RaiaInputError,
        ("argument 'prompt'", "cannot be rendered", "'question' is undefined"),
        lambda env: env.run(in_dag(lambda: prompt_task(prompt="Q: {{ question }}")), render=True),
    ),
    Case(
        "prompt-template-file-missing",
        "RaiaPromptOperator",
        "prompt",
        "names a .md template file that does not exist",
        RaiaInputError,
        ("argument 'prompt'", "cannot be rendered", "TemplateNotFound", "prompts/missing.md"),
        lambda env: env.run(in_dag(lambda: prompt_task(prompt="prompts/missing.md")), render=True),
    ),
    Case(
        "prompt-token-tracking-blank",
        "RaiaPromptOperator",
        "token_tracking_id",
        "whitespace only",
        RaiaInputError,
        ("argument 'token_tracking_id'", "must be omitted (None) or contain text"),
        lambda env: env.run(prompt_task(token_tracking_id="  ")),
    ),
    Case(
        "prompt-timeout-zero",
        "RaiaPromptOperator",
        "timeout",
        "zero",
        RaiaInputError,
        ("timeout must be a positive number of seconds or a timedelta", "got 0"),
        lambda env: prompt_task(timeout=0),
    ),
    Case(
        "prompt-timeout-negative-timedelta",
        "RaiaPromptOperator",
        "timeout",
        "a negative timedelta",
        RaiaInputError,
        ("timeout must be a positive number of seconds or a timedelta", "timedelta(days=-1"),
        lambda env: prompt_task(timeout=timedelta(seconds=-5)),
    ),
    Case(
        "prompt-timeout-string",
        "RaiaPromptOperator",
        "timeout",
        "a string, not a number",
        RaiaInputError,
        ("timeout must be a positive number of seconds or a timedelta", "got '600'"),
        lambda env: prompt_task(timeout="600"),
    ),
    Case(
        "prompt-poll-interval-negative",
        "RaiaPromptOperator",
        "poll_interval",
        "negative",
        RaiaInputError,
        ("poll_interval must be a positive number of seconds or a timedelta", "got -1"),
        lambda env: prompt_task(poll_interval=-1, deferrable=True),
    ),
    # -- RaiaPromptSensor ------------------------------------------------------------------------------------
    Case(
        "sensor-prompt-id-rendered-none",
        "RaiaPromptSensor",
        "prompt_id",
        "an xcom_pull that found nothing renders 'None'",
        RaiaInputError,
        ("prompt_id must be the non-empty id of an async prompt", "got 'None'", "does the template pull"),
        lambda env: env.run(
            sensor_task(prompt_id="{{ ti.xcom_pull(task_ids='submit') }}", deferrable=True), render=True
        ),
    ),
    Case(
        "sensor-prompt-id-blank",
        "RaiaPromptSensor",
        "prompt_id",
        "whitespace only",
        RaiaInputError,
        ("prompt_id must be the non-empty id of an async prompt", "got '  '"),
        lambda env: env.run(sensor_task(prompt_id="  ", deferrable=True)),
    ),
    Case(
        "sensor-poke-interval-zero",
        "RaiaPromptSensor",
        "poke_interval",
        "zero",
        RaiaInputError,
        ("poke_interval must be a positive number of seconds or a timedelta", "got 0"),
        lambda env: sensor_task(poke_interval=0),
    ),
    Case(
        "sensor-timeout-negative",
        "RaiaPromptSensor",
        "timeout",
        "negative",
        RaiaInputError,
        ("timeout must be a positive number of seconds or a timedelta", "got -60"),
        lambda env: sensor_task(timeout=-60),
    ),
    Case(
        "sensor-template-syntax-error",
        "RaiaPromptSensor",
        "prompt_id",
        "Jinja syntax error",
        RaiaInputError,
        ("argument 'prompt_id'", "cannot be rendered", "TemplateSyntaxError"),
        lambda env: env.run(sensor_task(prompt_id="{{ ti.xcom_pull(task_ids='submit') ", deferrable=True), render=True),
    ),
    # -- RaiaBatchPromptOperator -------------------------------------------------------------------------------
    Case(
        "batch-template-syntax-error",
        "RaiaBatchPromptOperator",
        "prompt_template",
        "Jinja syntax error (checked when the DAG is parsed)",
        RaiaInputError,
        ("argument 'prompt_template' is not valid Jinja", "line 1"),
        lambda env: batch_task(env, prompt_template="Capital of {{ country "),
    ),
    Case(
        "batch-row-template-undefined",
        "RaiaBatchPromptOperator",
        "prompt_template",
        "one of three rows lacks the field the template uses",
        RaiaInputError,
        ("argument 'prompt_template' cannot be rendered for every row", "nothing was sent", "row 1", "'country'"),
        lambda env: env.run(batch_task(env, records=[{"country": "France"}, {"land": "Italy"}, {"country": "Spain"}])),
        check=nothing_written,
    ),
    Case(
        "batch-row-renders-blank",
        "RaiaBatchPromptOperator",
        "prompt_template",
        "one row's prompt renders blank",
        RaiaInputError,
        ("argument 'prompt_template'", "row 1", "the prompt renders blank", "nothing was sent"),
        lambda env: env.run(
            batch_task(env, prompt_template="{{ question }}", records=[{"question": "Why?"}, {"question": "  "}])
        ),
        check=nothing_written,
    ),
    Case(
        "batch-records-empty",
        "RaiaBatchPromptOperator",
        "records",
        "an empty list",
        RaiaInputError,
        ("argument 'records' is empty",),
        lambda env: env.run(batch_task(env, records=[])),
        check=nothing_written,
    ),
    Case(
        "batch-input-missing-file",
        "RaiaBatchPromptOperator",
        "input_path",
        "the file does not exist",
        RaiaInputError,
        ("argument 'input_path'", "missing.csv", "does not exist"),
        lambda env: batch_from(env, "missing.csv", None),
        check=nothing_written,
    ),
    Case(
        "batch-input-is-directory",
        "RaiaBatchPromptOperator",
        "input_path",
        "a directory given as the input file",
        RaiaInputError,
        ("argument 'input_path'", "is a directory", "name one .csv, .jsonl or .ndjson file"),
        lambda env: (env.folder("rows.csv"), batch_from(env, "rows.csv", None))[1],
        check=nothing_written,
    ),
    Case(
        "batch-input-empty-file",
        "RaiaBatchPromptOperator",
        "input_path",
        "an empty JSONL file",
        RaiaInputError,
        ("argument 'input_path'", "holds no records"),
        lambda env: batch_from(env, "rows.jsonl", b""),
        check=nothing_written,
    ),
    Case(
        "batch-input-not-utf8",
        "RaiaBatchPromptOperator",
        "input_path",
        "a Latin-1 file, not UTF-8 text",
        RaiaInputError,
        ("argument 'input_path'", "cannot be read as UTF-8 text"),
        lambda env: batch_from(env, "rows.csv", "country\nCôte d'Ivoire\n".encode("latin-1")),
        check=nothing_written,
    ),
    Case(
        "batch-max-concurrency-zero",
        "RaiaBatchPromptOperator",
        "max_concurrency",
        "zero",
        RaiaInputError,
        ("max_concurrency must be a positive integer", "got 0"),
        lambda env: batch_task(env, max_concurrency=0),
    ),
    Case(
        "batch-timeout-negative",
        "RaiaBatchPromptOperator",
        "timeout",
        "negative",
        RaiaInputError,
        ("timeout must be a positive number of seconds or a timedelta", "got -5"),
        lambda env: batch_task(env, timeout=-5),
    ),
    Case(
        "batch-checkpoint-interval-zero",
        "RaiaBatchPromptOperator",
        "checkpoint_interval",
        "zero",
        RaiaInputError,
        ("checkpoint_interval must be a positive number of seconds or a timedelta", "got 0"),
        lambda env: batch_task(env, checkpoint_interval=0),
    ),
    Case(
        "batch-prompt-mode-unknown",
        "RaiaBatchPromptOperator",
        "prompt_mode",
        "not sync or async",
        RaiaInputError,
        ("prompt_mode must be one of ('sync', 'async')", "got 'stream'"),
        lambda env: batch_task(env, prompt_mode="stream"),
    ),
    Case(
        "batch-max-failed-ratio-above-one",
        "RaiaBatchPromptOperator",
        "max_failed_ratio",
        "above 1",
        RaiaInputError,
        ("max_failed_ratio must be a number from 0 to 1", "got 1.5"),
        lambda env: batch_task(env, max_failed_ratio=1.5),
    ),
    # -- RaiaUploadFilesOperator -------------------------------------------------------------------------------
    Case(
        "upload-missing-file-among-good",
        "RaiaUploadFilesOperator",
        "paths",
        "the second of three files does not exist",
        RaiaInputError,
        ("argument 'paths'", "b.md", "does not exist"),
        upload_three_one_missing,
    ),
    Case(
        "upload-unreadable-file",
        "RaiaUploadFilesOperator",
        "paths",
        "one of two files cannot be read",
        RaiaInputError,
        ("argument 'paths'", "locked.md", "is not readable by this process"),
        upload_unreadable,
    ),
    Case(
        "upload-empty-glob",
        "RaiaUploadFilesOperator",
        "paths",
        "a glob pattern that matches no file",
        RaiaInputError,
        ("argument 'paths'", "the pattern", "*.pdf", "matches no file"),
        lambda env: env.run(RaiaUploadFilesOperator(task_id="upload", paths=str(env.folder("kb") / "*.pdf"))),
    ),
    Case(
        "upload-empty-directory",
        "RaiaUploadFilesOperator",
        "paths",
        "a directory with no file",
        RaiaInputError,
        ("argument 'paths'", "the directory", "contains no file"),
        lambda env: env.run(RaiaUploadFilesOperator(task_id="upload", paths=str(env.folder("empty")))),
    ),
    Case(
        "upload-paths-empty-list",
        "RaiaUploadFilesOperator",
        "paths",
        "an empty list",
        RaiaInputError,
        ("argument 'paths' is required", "name at least one file, directory or pattern"),
        lambda env: RaiaUploadFilesOperator(task_id="upload", paths=[]),
    ),
    Case(
        "upload-paths-item-wrong-type",
        "RaiaUploadFilesOperator",
        "paths",
        "a list item that is a number",
        RaiaInputError,
        ("argument 'paths' item 1", "must be a local path, a URL or an ObjectStoragePath", "got int 42"),
        lambda env: env.run(RaiaUploadFilesOperator(task_id="upload", paths=[str(env.file("kb/a.md")), 42])),
    ),
    Case(
        "upload-vector-store-unknown",
        "RaiaUploadFilesOperator",
        "vector_store",
        "not one of the modes",
        RaiaInputError,
        ("argument 'vector_store' must be one of 'auto', 'sync', 'async', 'none'", "got 'always'"),
        lambda env: RaiaUploadFilesOperator(task_id="upload", paths="kb/*.md", vector_store="always"),
    ),
    # -- RaiaStartConversationOperator -------------------------------------------------------------------------
    Case(
        "conversation-channel-unknown",
        "RaiaStartConversationOperator",
        "channel",
        "a channel raia does not start conversations on",
        RaiaInputError,
        ("argument 'channel' must be one of 'email', 'sms' or 'voice'", "got 'whatsapp'"),
        lambda env: sms_task(channel="whatsapp"),
    ),
    Case(
        "conversation-phone-not-e164",
        "RaiaStartConversationOperator",
        "phone_number",
        "a national number with punctuation, not E.164",
        RaiaInputError,
        ("argument 'phone_number'", "must be an E.164 phone number like +15551234567", "(555) 123-4567"),
        lambda env: env.run(sms_task(phone_number="(555) 123-4567")),
    ),
    Case(
        "conversation-email-malformed",
        "RaiaStartConversationOperator",
        "user_email",
        "no @",
        RaiaInputError,
        ("argument 'user_email'", "must be an email address like jane@example.com"),
        lambda env: env.run(email_task(user_email="jane.example.com")),
    ),
    Case(
        "conversation-first-name-blank",
        "RaiaStartConversationOperator",
        "first_name",
        "a template that renders to whitespace",
        RaiaInputError,
        ("argument 'first_name'", "must contain text, not only whitespace"),
        lambda env: env.run(sms_task(first_name="{{ params.first }}"), render=True, first=" "),
    ),
    Case(
        "conversation-required-missing",
        "RaiaStartConversationOperator",
        "sms_introduction",
        "missing for channel sms",
        RaiaInputError,
        ("argument 'sms_introduction' is required with channel 'sms'", "which needs"),
        lambda env: sms_task(sms_introduction=None),
    ),
    Case(
        "conversation-argument-of-other-channel",
        "RaiaStartConversationOperator",
        "email_subject",
        "given with channel sms",
        RaiaInputError,
        ("argument 'email_subject' does not apply to channel 'sms'", "only to 'email'"),
        lambda env: sms_task(email_subject="Your order"),
    ),
    Case(
        "conversation-flag-not-bool",
        "RaiaStartConversationOperator",
        "reset_conversation",
        "a string, not a bool",
        RaiaInputError,
        ("argument 'reset_conversation' must be True, False or None", "got 'yes'"),
        lambda env: sms_task(reset_conversation="yes"),
    ),
    # -- RaiaSendMessageOperator -------------------------------------------------------------------------------
    Case(
        "message-whitespace",
        "RaiaSendMessageOperator",
        "message",
        "whitespace only",
        RaiaInputError,
        ("argument 'message'", "must contain text, not only whitespace"),
        lambda env: env.run(message_task(message="\n  \n")),
    ),
    Case(
        "message-conversation-id-empty",
        "RaiaSendMessageOperator",
        "conversation_id",
        "empty (deferrable path)",
        RaiaInputError,
        ("conversation_id must be the non-empty id of a conversation", "got ''"),
        lambda env: env.run(message_task(conversation_id="", deferrable=True)),
    ),
    Case(
        "message-conversation-id-rendered-none",
        "RaiaSendMessageOperator",
        "conversation_id",
        "an xcom_pull that found nothing renders 'None'",
        RaiaInputError,
        ("conversation_id must be the non-empty id of a conversation", "got 'None'", "did the upstream task push it"),
        lambda env: env.run(message_task(conversation_id="None")),
    ),
    Case(
        "message-timeout-zero",
        "RaiaSendMessageOperator",
        "timeout",
        "a zero timedelta",
        RaiaInputError,
        ("timeout must be a positive number of seconds or a timedelta", "timedelta(0)"),
        lambda env: message_task(timeout=timedelta(0)),
    ),
    # -- RaiaCreateWebhookOperator -----------------------------------------------------------------------------
    Case(
        "webhook-url-http",
        "RaiaCreateWebhookOperator",
        "url",
        "http://, not https://",
        RaiaInputError,
        ("argument 'url' must be an https:// URL",),
        lambda env: env.run(webhook_task(url="http://hooks.example.com/raia")),
    ),
    Case(
        "webhook-url-private",
        "RaiaCreateWebhookOperator",
        "url",
        "a private address raia cannot reach",
        RaiaInputError,
        ("argument 'url' must be publicly reachable", "10.0.0.7 is a private, loopback, link-local or reserved"),
        lambda env: env.run(webhook_task(url="https://10.0.0.7/raia")),
    ),
    Case(
        "webhook-trigger-unknown",
        "RaiaCreateWebhookOperator",
        "trigger_condition",
        "not a documented trigger condition",
        RaiaInputError,
        ("argument 'trigger_condition'", "'each_message', 'end_dialog'", "got 'on_message'"),
        lambda env: env.run(webhook_task(trigger_condition="on_message")),
    ),
    Case(
        "webhook-header-line-break",
        "RaiaCreateWebhookOperator",
        "headers",
        "a value with a line break (header injection); the value is never quoted",
        RaiaInputError,
        ("argument 'headers'", "header 'Authorization' contains a line break", "never shown"),
        lambda env: webhook_task(headers={"Authorization": "Bearer s3cr3t-token\r\nX-Evil: 1"}),
    ),
    # -- RaiaSyncKnowledgeOperator -----------------------------------------------------------------------------
    Case(
        "knowledge-source-missing",
        "RaiaSyncKnowledgeOperator",
        "source",
        "the folder does not exist",
        RaiaInputError,
        ("argument 'source'", "does not exist", "name the folder of documents to mirror"),
        lambda env: env.run(sync_task(env)),
    ),
    Case(
        "knowledge-source-is-file",
        "RaiaSyncKnowledgeOperator",
        "source",
        "a file given as the folder",
        RaiaInputError,
        ("argument 'source'", "is not a folder"),
        lambda env: env.run(sync_task(env, source=str(env.file("kb.md")))),
    ),
    Case(
        "knowledge-names-collide",
        "RaiaSyncKnowledgeOperator",
        "source",
        "two documents share a base name (raia keeps base names only)",
        RaiaInputError,
        ("argument 'source'", "would collide", "faq.md (de/faq.md, en/faq.md)", "narrow 'include'/'exclude'"),
        sync_with_clashing_names,
    ),
    Case(
        "knowledge-include-bad-glob",
        "RaiaSyncKnowledgeOperator",
        "include",
        "an invalid glob",
        RaiaInputError,
        ("argument 'include'", "'docs/***.md' is not a valid glob"),
        lambda env: sync_task(env, include="docs/***.md"),
    ),
    Case(
        "knowledge-max-delete-ratio-above-one",
        "RaiaSyncKnowledgeOperator",
        "max_delete_ratio",
        "above 1",
        RaiaInputError,
        ("argument 'max_delete_ratio' must be from 0 to 1", "got 2"),
        lambda env: sync_task(env, max_delete_ratio=2),
    ),
    Case(
        "knowledge-vector-store-timeout-zero",
        "RaiaSyncKnowledgeOperator",
        "vector_store_timeout",
        "zero",
        RaiaInputError,
        ("vector_store_timeout must be a positive number of seconds or a timedelta", "got 0"),
        lambda env: sync_task(env, vector_store_timeout=0),
    ),
    Case(
        "knowledge-poll-interval-negative",
        "RaiaSyncKnowledgeOperator",
        "poll_interval",
        "negative",
        RaiaInputError,
        ("poll_interval must be a positive number of seconds or a timedelta", "got -10"),
        lambda env: sync_task(env, poll_interval=-10),
    ),
]


def test_catalogue_is_complete() -> None:
    """At least 30 cases, unique ids, and every public entry point covered."""
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)
    covered = {case.entry.split(" ")[0].split(".")[0] for case in CASES}
    assert covered >= {
        "RaiaHook",
        "RaiaPromptOperator",
        "RaiaPromptSensor",
        "RaiaBatchPromptOperator",
        "RaiaUploadFilesOperator",
        "RaiaStartConversationOperator",
        "RaiaSendMessageOperator",
        "RaiaCreateWebhookOperator",
        "RaiaSyncKnowledgeOperator",
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_before_any_request(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_RAIA_DEFAULT", json.dumps(case.connection or GOOD_CONNECTION))
    monkeypatch.chdir(tmp_path)  # relative paths and template files resolve in the scratch folder
    env = Env(tmp_path, monkeypatch)
    # Nothing is registered: a request would end in a connection error, never in the error expected here.
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as blocking,
        mock_raia("", assert_all_called=False) as async_router,
    ):
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the exact type is asserted below
            case.act(env)
        blocking_calls, async_calls = len(blocking.calls), len(async_router.calls)

    error = raised.value
    assert type(error) is case.error, f"expected {case.error.__name__}, got {type(error).__name__}: {error}"
    message = str(error)
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in the message: {message}"
    assert blocking_calls == 0
    assert async_calls == 0
    # Nothing done, so nothing lost: no XCom pushed, nothing remembered for a retry, no hook even built.
    assert env.ti.pushed == []
    assert env.store.data == {}
    if env.task is not None:
        assert "hook" not in vars(env.task), "the hook was built before the bad input was found"
        assert "poll_hook" not in vars(env.task)
    if case.check is not None:
        case.check(env)
    # The messages that quote a connection never quote its key, nor a credential from the host.
    assert TEST_KEY not in message
    assert "hunter22" not in message
    assert "s3cr3t-token" not in message
