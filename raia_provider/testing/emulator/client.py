"""``EmulatorClient``: drive an emulator in another process through its control API (httpx)."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Unpack

import httpx

from raia_provider.testing.emulator.answers import FAILURE_MESSAGE, Outcome
from raia_provider.testing.emulator.faults import Fault, FaultKind
from raia_provider.testing.emulator.matching import ANY
from raia_provider.testing.emulator.net import CONTROL_PREFIX, EXTERNAL_PREFIX
from raia_provider.testing.emulator.requestlog import RecordedRequest
from raia_provider.testing.emulator.state import Agent, ConfigChanges, EmulatorConfig, PromptRecord


def _prompt(data: dict[str, Any]) -> PromptRecord:
    outcome = data.get("outcome")
    return PromptRecord(
        **{
            **data,
            "file_names": tuple(data.get("file_names", ())),
            "outcome": Outcome(**outcome) if outcome else None,
        }
    )


class EmulatorClient:
    """Client of an emulator's control API, with the method names of ``RaiaEmulator``.

    :param url: the emulator's origin ``http://127.0.0.1:PORT`` (a trailing ``/external`` is accepted).
    :param timeout: seconds per control call.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        url = url.rstrip("/")
        if url.endswith(EXTERNAL_PREFIX):
            url = url[: -len(EXTERNAL_PREFIX)]
        self.url = url
        self._http = httpx.Client(base_url=f"{url}{CONTROL_PREFIX}", timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> EmulatorClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        # Mirror RaiaEmulator's exceptions: bad arguments -> ValueError, unknown prompt -> KeyError.
        if response.status_code in {400, 409, 422}:
            raise ValueError(response.json().get("detail"))
        if response.status_code == 404:
            raise KeyError(response.json().get("detail"))
        response.raise_for_status()
        return response.json() if response.content else None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/external``."""
        return f"{self.url}{EXTERNAL_PREFIX}"

    def health(self) -> dict[str, Any]:
        """``GET /_emulator/health``: status, base URL and default agent id and name."""
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def add_agent(self, key: str | None = None, name: str = "Agent") -> Agent:
        """Create another agent.

        :param key: its ``Agent-Secret-Key``; generated when omitted (the answer carries it).
        :param name: its name.
        """
        return Agent(**self._call("POST", "/agents", json={"key": key, "name": name}))

    def configure(self, **changes: Unpack[ConfigChanges]) -> EmulatorConfig:
        """Change knobs (see ``EmulatorConfig``).

        :param changes: the knobs to change.
        """
        return EmulatorConfig(**self._call("POST", "/config", json=dict(changes)))

    @property
    def config(self) -> EmulatorConfig:
        """The current knobs."""
        return EmulatorConfig(**self._call("GET", "/config"))

    def inject_fault(
        self,
        *,
        kind: FaultKind,
        method: str = ANY,
        path: str = ANY,
        count: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Add a fault rule (see ``RaiaEmulator.inject_fault``).

        :param kind: the fault kind.
        :param method: HTTP method, ``"*"`` for any.
        :param path: path pattern.
        :param count: how many matching requests to hit.
        :param status: status code for ``status``/``html`` faults.
        :param retry_after: ``Retry-After`` seconds for ``status`` faults.
        :param delay: seconds for ``slow`` faults.
        """
        spec = {
            "kind": kind,
            "method": method,
            "path": path,
            "count": count,
            "status": status,
            "retry_after": retry_after,
            "delay": delay,
        }
        return Fault(**self._call("POST", "/faults", json=spec))

    def faults(self) -> list[Fault]:
        """Pending fault rules."""
        return [Fault(**item) for item in self._call("GET", "/faults")]

    def clear_faults(self) -> None:
        """Drop every fault rule."""
        self._call("DELETE", "/faults")

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """The request log, optionally filtered.

        :param method: HTTP method filter.
        :param path: path pattern filter.
        """
        params = {name: value for name, value in (("method", method), ("path", path)) if value is not None}
        return [RecordedRequest(**item) for item in self._call("GET", "/requests", params=params)]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    def complete_prompt(
        self, prompt_id: str, response: str | None = None, total_tokens: int | None = None
    ) -> PromptRecord:
        """Complete an async prompt now.

        :param prompt_id: the ``promptId``.
        :param response: answer text (default: the deterministic answer).
        :param total_tokens: token count (default: computed).
        """
        body = {"response": response, "total_tokens": total_tokens}
        return _prompt(self._call("POST", f"/prompts/{prompt_id}/complete", json=body))

    def fail_prompt(self, prompt_id: str, error: str = FAILURE_MESSAGE) -> PromptRecord:
        """Fail an async prompt now.

        :param prompt_id: the ``promptId``.
        :param error: the error text.
        """
        return _prompt(self._call("POST", f"/prompts/{prompt_id}/fail", json={"error": error}))

    def reset(self) -> None:
        """Back to the initial state."""
        self._call("POST", "/reset")
