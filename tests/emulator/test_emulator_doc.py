"""``docs/emulator.rst`` against the real standalone emulator, so the page cannot drift from what it documents.

The emulator is started the way the page starts it (``python -m raia_provider.testing --port 0 --key
dev-key``, the port read from the line it prints). Every ``code-block:: bash`` of the page that calls ``curl``
is an example: it must carry a ``:name:``, and it runs as it stands in ``bash`` — the page's port replaced by
the real one — after a reset (the page says each example starts from a fresh emulator). Then:

* each ``# ...`` comment line of the example is an output it documents: it must appear in what the example
  printed, in order (``...`` in it stands for anything);
* a check named after the example (:data:`CHECKS`) asserts its effect on the emulator through
  ``EmulatorClient`` and plain requests: the fault acts on the next matching request, the log holds the
  request, the held prompt is completed. An example without a check, or a check without an example, fails.

The page's CLI lines must parse with the CLI's own parser and name every flag it has; its connection line must
point at the emulator's base URL with its key. Only loopback is used, and nothing waits on a timer: each
example finishes when its last ``curl`` has its answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from raia_provider.testing import EmulatorClient
from raia_provider.testing.__main__ import _parser

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "emulator.rst"
DOC_ORIGIN = "127.0.0.1:8080"
KEY = "dev-key"
LISTENING = re.compile(r"^raia emulator listening on http://127\.0\.0\.1:(\d+)/external$")
CODE_BLOCK = re.compile(r"^(?P<indent>\s*)\.\. code-block:: (?P<language>\S+)\s*$")
OPTION = re.compile(r"^\s+:(?P<name>[\w-]+):\s*(?P<value>.*)$")
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "ftp_proxy"}


@dataclass(frozen=True)
class CodeBlock:
    """A ``code-block`` of the page.

    :param language: its language (``bash``, ``python``).
    :param name: its ``:name:`` option, if any.
    :param code: its text, dedented.
    """

    language: str
    name: str | None
    code: str


def code_blocks(text: str) -> list[CodeBlock]:
    """Every ``.. code-block::`` of an reStructuredText page, with its ``:name:`` and dedented body.

    :param text: the page.
    """
    lines, blocks, index = text.splitlines(), [], 0
    while index < len(lines):
        start = CODE_BLOCK.match(lines[index])
        index += 1
        if start is None:
            continue
        options: dict[str, str] = {}
        while index < len(lines) and (option := OPTION.match(lines[index])):
            options[option.group("name")] = option.group("value")
            index += 1
        body: list[str] = []
        indent = len(start.group("indent"))
        while index < len(lines) and (
            not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
        ):
            body.append(lines[index])
            index += 1
        code = textwrap.dedent("\n".join(body)).strip("\n")
        blocks.append(CodeBlock(start.group("language"), options.get("name"), code))
    return blocks


BLOCKS = code_blocks(PAGE.read_text(encoding="utf-8"))
CURL_EXAMPLES = [block for block in BLOCKS if block.language == "bash" and re.search(r"^\s*curl ", block.code, re.M)]


def documented_outputs(code: str) -> list[str]:
    """The outputs an example documents: its ``# ...`` comment lines, in order.

    :param code: the example.
    """
    return [line.strip()[2:] for line in code.splitlines() if line.strip().startswith("# ")]


def assert_prints(output: str, expected: list[str]) -> None:
    """Assert each documented output appears in ``output``, in order (``...`` matches anything).

    :param output: what the example printed.
    :param expected: the documented outputs.
    """
    position = 0
    for line in expected:
        pattern = ".*?".join(re.escape(part) for part in line.split("..."))
        found = re.compile(pattern, re.S).search(output, position)
        assert found is not None, f"documented output {line!r} not printed after position {position}:\n{output}"
        position = found.end()


@dataclass
class Emulator:
    """The standalone emulator under test.

    :param port: its port.
    :param first_line: the line it printed once it served.
    :param control: a client of its control API.
    """

    port: int
    first_line: str
    control: EmulatorClient

    @property
    def base_url(self) -> str:
        """Its ``/external`` base URL."""
        return f"http://127.0.0.1:{self.port}/external"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call its ``/external`` API as the default agent.

        :param method: HTTP method.
        :param path: path below ``/external``.
        :param kwargs: passed to ``requests``.
        """
        return requests.request(
            method, f"{self.base_url}{path}", headers={"Agent-Secret-Key": KEY}, timeout=10, **kwargs
        )


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """``python -m raia_provider.testing --port 0 --key dev-key`` in a subprocess, as the page starts it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "raia_provider.testing", "--port", "0", "--key", KEY],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    line = process.stdout.readline().strip()  # blocks until the server serves (or the process dies)
    listening = LISTENING.match(line)
    assert listening, f"unexpected first line {line!r}; stderr: {process.stderr.read()}"
    control = EmulatorClient(f"http://127.0.0.1:{listening.group(1)}")
    try:
        yield Emulator(int(listening.group(1)), line, control)
    finally:
        control.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


def _shell_environment() -> dict[str, str]:
    # Loopback only: no proxy may see the examples' requests; python3 is this interpreter.
    environment = {name: value for name, value in os.environ.items() if name.lower() not in PROXY_VARIABLES}
    environment["NO_PROXY"] = environment["no_proxy"] = "*"
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    return environment


def run_example(block: CodeBlock, emulator: Emulator, folder: Path) -> str:
    """Run an example as the page shows it, against ``emulator``; return what it printed.

    :param block: the example.
    :param emulator: the emulator, whose port replaces the page's.
    :param folder: the working directory (examples write small files).
    """
    script = block.code.replace(DOC_ORIGIN, f"127.0.0.1:{emulator.port}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=_shell_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{block.name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


# -- the effect of each example ------------------------------------------------------------------------

Check = Callable[[Emulator, str], None]
Setup = Callable[[Emulator], None]


def _printed(output: str) -> list[Any]:
    """Split what an example printed into its answers: JSON values, else lines of text (curl prints answers
    back to back, without a newline after a JSON body; ``000`` is curl's "no answer", text)."""
    decoder, values, position = json.JSONDecoder(), [], 0
    while position < len(output):
        if output[position].isspace():
            position += 1
            continue
        try:
            if re.match(r"0\d", output[position : position + 2]):
                raise json.JSONDecodeError("a leading zero", output, position)
            value, position = decoder.raw_decode(output, position)
        except json.JSONDecodeError:
            end = output.find("\n", position)
            end = len(output) if end == -1 else end
            value, position = output[position:end], end
        values.append(value)
    return values


def check_reset(emulator: Emulator, output: str) -> None:
    assert emulator.control.requests() == []
    assert emulator.control.faults() == []
    assert emulator.control.config.prompt_delay == 0.2
    assert emulator.control.users() == []


def setup_reset(emulator: Emulator) -> None:
    emulator.call("POST", "/prompts", json={"prompt": "before the reset"})
    emulator.control.inject_fault(kind="status", status=500, path="/external/users")
    emulator.control.configure(prompt_delay=None)
    emulator.control.seed_user(email="someone@example.com")


def check_health(emulator: Emulator, output: str) -> None:
    health = json.loads(output)
    assert health["status"] == "ok"
    assert health["base_url"] == emulator.base_url
    assert health["storage_url"] == emulator.control.storage_url
    assert health["storage_url"].startswith("http://127.0.0.1:")
    assert health["storage_url"] != f"http://127.0.0.1:{emulator.port}"
    assert health["default_agent"]["name"] == "Test Agent"


def check_requests(emulator: Emulator, output: str) -> None:
    answer, everything, posts, prefixed = _printed(output)
    assert answer["status"] == "completed"
    for listed in (everything, posts, prefixed):
        assert [(entry["method"], entry["path"], entry["status"]) for entry in listed] == [
            ("POST", "/external/prompts", 200)
        ]
        assert KEY not in json.dumps(listed)
    assert len(emulator.control.requests(method="POST", path="/external/prompts")) == 1


def setup_with_a_request(emulator: Emulator) -> None:
    emulator.call("GET", "/agents/by-api-key")


def check_requests_cleared(emulator: Emulator, output: str) -> None:
    assert output == ""
    assert emulator.control.requests() == []


def check_fault_status(emulator: Emulator, output: str) -> None:
    fault, *codes = _printed(output)
    assert (fault["kind"], fault["status"], fault["retry_after"], fault["count"]) == ("status", 503, 1, 2)
    assert codes == [503, 503, 200]
    logged = emulator.control.requests(method="POST", path="/external/prompts")
    assert [(entry.status, entry.fault) for entry in logged] == [(503, "status"), (503, "status"), (200, None)]
    assert emulator.control.faults() == []


def check_fault_after(emulator: Emulator, output: str) -> None:
    fault, *codes = _printed(output)
    assert (fault["kind"], fault["after"]) == ("reset", 2)
    assert codes == [200, 200, "000"]
    logged = emulator.control.requests(method="POST", path="/external/agent-files/upload")
    assert [(entry.status, entry.fault) for entry in logged] == [(200, None), (200, None), (None, "reset")]
    assert len(emulator.control.agent_files()) == 2  # the reset upload was not run


def check_fault_kinds(emulator: Emulator, output: str) -> None:
    *added, listed = _printed(output)
    kinds = ["reset_mid_response", "slow", "malformed_json", "html", "reset"]
    assert [fault["kind"] for fault in added] == [fault["kind"] for fault in listed] == kinds
    with pytest.raises(requests.exceptions.RequestException):  # headers, half the body, then the cut
        emulator.call("POST", "/prompts/async", json={"prompt": "cut short"})
    started = time.monotonic()
    assert emulator.call("GET", "/agents/by-api-key").status_code == 200
    assert time.monotonic() - started >= 0.5
    malformed = emulator.call("GET", "/prompts/any-id/response-on")
    assert malformed.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        malformed.json()
    proxy_page = emulator.call("GET", "/conversations")
    assert proxy_page.status_code == 504
    assert proxy_page.headers["content-type"].startswith("text/html")
    with pytest.raises(requests.exceptions.ConnectionError):
        emulator.call("GET", "/users/search", params={"email": "a@example.com"})
    logged = emulator.control.requests(method="POST", path="/external/prompts/async")
    assert [(entry.status, entry.fault) for entry in logged] == [(200, "reset_mid_response")]  # it was run
    assert emulator.control.faults() == []


def setup_with_a_fault(emulator: Emulator) -> None:
    emulator.control.inject_fault(kind="reset", path="/external/prompts", count=3)


def check_faults_cleared(emulator: Emulator, output: str) -> None:
    assert emulator.control.faults() == []
    assert emulator.call("POST", "/prompts", json={"prompt": "Hello"}).status_code == 200


def check_config(emulator: Emulator, output: str) -> None:
    before, after = _printed(output)
    assert before == {
        "prompt_delay": 0.2,
        "latency": 0.0,
        "pending_style": "null",
        "rate_limit": None,
        "burst": None,
        "message_delay": 0.2,
        "message_status_vocabulary": "spec",
        "vector_store_delay": 0.2,
        "json_answers": "valid",
    }
    assert after == {**before, "latency": 0.1, "pending_style": "status", "rate_limit": 5.0, "burst": 10}
    config = emulator.control.config
    assert (config.latency, config.pending_style, config.rate_limit, config.burst) == (0.1, "status", 5.0, 10)


def check_prompt_completed(emulator: Emulator, output: str) -> None:
    *_, held, completed, poll = _printed(output)
    assert held is None
    assert (completed["outcome"]["status"], completed["outcome"]["response"]) == ("completed", "Revenue grew.")
    assert poll == {"status": "completed", "totalTokens": 7, "response": "Revenue grew.", "error": None}


def check_prompt_failed(emulator: Emulator, output: str) -> None:
    *_, poll = _printed(output)
    assert poll == {"status": "failed", "totalTokens": None, "response": None, "error": "The model is overloaded."}


def check_message_completed(emulator: Emulator, output: str) -> None:
    *_, job, poll = _printed(output)
    assert job["status"] == "completed"
    assert poll["status"] == "completed"
    assert poll["message"]["message"] == "It left the warehouse today."
    assert [m.text for m in emulator.control.messages()] == ["Is my order on its way?", "It left the warehouse today."]


def check_message_failed(emulator: Emulator, output: str) -> None:
    *_, job, poll = _printed(output)
    assert (job["status"], job["error"]) == ("failed", "The agent is unavailable.")
    assert poll == {"status": "failed", "message": None, "error": "The agent is unavailable."}


def check_vector_store(emulator: Emulator, output: str) -> None:
    _, processing, completed, done, failed = _printed(output)
    assert [item["vectorStoreUploadStatus"] for item in processing] == ["processing"]
    assert completed["vector_store_status"] == "done"
    assert [(item["isUploadedToVectorStore"], item["vectorStoreUploadStatus"]) for item in done] == [(True, "done")]
    assert failed["vector_store_status"] == "failed"
    assert [item.vector_store_status for item in emulator.control.agent_files()] == ["done", "failed"]


def check_agents(emulator: Emulator, output: str) -> None:
    added, name = _printed(output)
    assert (added["key"], added["name"]) == ("second-key", "Second Agent")
    assert name == "Second Agent"
    second = requests.get(
        f"{emulator.base_url}/agents/by-api-key", headers={"Agent-Secret-Key": "second-key"}, timeout=10
    )
    assert second.json()["id"] == added["id"]


def check_records(emulator: Emulator, output: str) -> None:
    conversation, users, conversations, messages, files, webhooks, usage = _printed(output)
    assert (conversation["channel"], conversation["mode"], conversation["title"]) == ("sms", "manual", "Delivery")
    assert [user["phone_number"] for user in users] == ["+15551234567"]
    assert [item["id"] for item in conversations] == [conversation["id"]]
    assert (messages, files, webhooks, usage) == ([], [], [], [])
    manual = emulator.call("POST", f"/conversations/{conversation['id']}/send-manual-message", json={"message": "Hi"})
    assert manual.status_code == 200  # the seeded conversation is in manual mode


def check_uploads(emulator: Emulator, output: str) -> None:
    served, answer, uploads = _printed(output)
    data = b"Q3 revenue: 1.2M\n"
    digest = hashlib.sha256(data).hexdigest()
    assert served == "Q3 revenue: 1.2M"
    assert (
        answer["response"] == f"[Test Agent] answer to: Summarise [files: report.txt (17 bytes, sha256 {digest[:16]})]"
    )
    assert [(u["size"], u["sha256"], u["put_content_type"], u["data"]) for u in uploads] == [
        (len(data), digest, "text/plain", None)
    ]
    logged = emulator.control.requests(method="POST", path="/external/prompts")
    assert logged[-1].body["files"][0]["fileName"] == "report.txt"
    assert emulator.control.key_leaks() == []


def check_storage_key(emulator: Emulator, output: str) -> None:
    refused, code, leaks, not_found = _printed(output)
    assert (refused["detail"].startswith("the storage service does not take"), code) == (True, 403)
    (leak,) = emulator.control.key_leaks()
    assert leaks == [dataclasses.asdict(leak)]
    assert leak.agent_id == emulator.control.health()["default_agent"]["id"]
    assert not_found == 404
    assert [upload.size for upload in emulator.control.uploads()] == [None]  # nothing was stored
    assert KEY not in json.dumps(leaks)


def check_output_schema(emulator: Emulator, output: str) -> None:
    added, profile_line, invoice, sentiment_agent, sentiment = _printed(output)
    assert (added["key"], added["output_json_schema"]["required"]) == ("invoice-key", ["total", "currency"])
    enabled, schema_text = profile_line.split(" ", 1)
    assert (enabled, json.loads(schema_text)) == ("True", added["output_json_schema"])
    answer = json.loads(invoice["response"])
    assert set(answer) == {"total", "currency", "issued_on"}
    assert answer["currency"] == "EUR"
    assert answer["total"] >= 0
    assert sentiment_agent["output_json_schema"] == {
        "type": "object",
        "properties": {"sentiment": {"enum": ["positive", "negative"]}},
    }
    assert sentiment["response"] == '{"sentiment": "positive"}'
    emulator.control.reset()
    assert emulator.call("POST", "/prompts", json={"prompt": "Hi"}).json()["response"] == "[Test Agent] answer to: Hi"


def check_json_answers(emulator: Emulator, output: str) -> None:
    _, valid, invalid, mismatch, config, knob = _printed(output)
    assert set(valid) == {"name"}
    assert invalid.startswith('{"name": "name-')
    assert not invalid.endswith("}")
    assert mismatch == {}
    assert config["json_answers"] == "invalid" == emulator.control.config.json_answers
    with pytest.raises(json.JSONDecodeError):
        json.loads(knob["response"])


CHECKS: dict[str, tuple[Setup | None, Check]] = {
    "emulator-control-reset": (setup_reset, check_reset),
    "emulator-control-health": (None, check_health),
    "emulator-control-requests": (None, check_requests),
    "emulator-control-requests-clear": (setup_with_a_request, check_requests_cleared),
    "emulator-control-fault-status": (None, check_fault_status),
    "emulator-control-fault-after": (None, check_fault_after),
    "emulator-control-fault-kinds": (None, check_fault_kinds),
    "emulator-control-faults-clear": (setup_with_a_fault, check_faults_cleared),
    "emulator-control-config": (None, check_config),
    "emulator-control-prompt-complete": (None, check_prompt_completed),
    "emulator-control-prompt-fail": (None, check_prompt_failed),
    "emulator-control-message-complete": (None, check_message_completed),
    "emulator-control-message-fail": (None, check_message_failed),
    "emulator-control-vector-store": (None, check_vector_store),
    "emulator-control-agents": (None, check_agents),
    "emulator-control-records": (None, check_records),
    "emulator-control-uploads": (None, check_uploads),
    "emulator-control-storage-key": (None, check_storage_key),
    "emulator-control-output-schema": (None, check_output_schema),
    "emulator-control-json-answers": (None, check_json_answers),
}
"""Per example (by ``:name:``): what to set up after the reset, and how to check its effect."""


def test_every_curl_example_is_named_and_checked() -> None:
    names = [block.name for block in CURL_EXAMPLES]
    assert None not in names, "every curl example of docs/emulator.rst needs a :name: (and a check here)"
    assert len(set(names)) == len(names)
    assert set(names) == set(CHECKS)


@pytest.mark.parametrize("block", CURL_EXAMPLES, ids=lambda block: str(block.name))
def test_curl_example_has_its_documented_effect(block: CodeBlock, emulator: Emulator, tmp_path: Path) -> None:
    setup, check = CHECKS[str(block.name)]
    emulator.control.reset()
    if setup is not None:
        setup(emulator)
    output = run_example(block, emulator, tmp_path)
    assert_prints(
        output, [line.replace(DOC_ORIGIN, f"127.0.0.1:{emulator.port}") for line in documented_outputs(block.code)]
    )
    check(emulator, output)


def test_the_page_shows_the_line_the_emulator_prints(emulator: Emulator) -> None:
    shown = [line for block in BLOCKS for line in documented_outputs(block.code) if "listening on" in line]
    assert shown == [emulator.first_line.replace(f"127.0.0.1:{emulator.port}", DOC_ORIGIN)]


def _cli_lines() -> list[list[str]]:
    commands = []
    for block in BLOCKS:
        for line in block.code.splitlines():
            if line.startswith("python -m raia_provider.testing"):
                commands.append(shlex.split(line, comments=True)[3:])
    return commands


def test_every_cli_line_parses_and_every_flag_is_shown() -> None:
    parser = _parser()
    shown: set[str] = set()
    for arguments in _cli_lines():
        parser.parse_args(arguments)  # exits (SystemExit) on a flag or value the CLI does not take
        shown.update(argument for argument in arguments if argument.startswith("--"))
    flags = set(re.findall(r"--[a-z][a-z-]*", parser.format_usage()))
    assert flags - {"--help"} <= shown, f"flags the page does not show: {sorted(flags - shown - {'--help'})}"


def test_the_connection_line_points_at_the_emulator(emulator: Emulator) -> None:
    exports = [
        line for block in BLOCKS for line in block.code.splitlines() if line.startswith("export AIRFLOW_CONN_RAIA")
    ]
    assert len(exports) == 1
    name, value = exports[0].removeprefix("export ").split("=", 1)
    connection = json.loads(shlex.split(value)[0])
    assert name == "AIRFLOW_CONN_RAIA_DEFAULT"
    assert connection == {"conn_type": "raia", "host": f"http://{DOC_ORIGIN}/external", "password": KEY}
    assert connection["host"].replace(DOC_ORIGIN, f"127.0.0.1:{emulator.port}") == emulator.base_url
