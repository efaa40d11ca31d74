"""The request log: every ``/external`` request, in arrival order, with the agent key never stored.

The ``Agent-Secret-Key`` header (and raia's other secret-key headers) is dropped before anything is
recorded, whether the key was valid or not. As a second guard, a presented key of at least
:data:`MIN_REDACTED_KEY_LENGTH` characters is masked wherever else it shows up (query string, body, other
headers), in case a client leaks it there. Shorter keys are not masked, because masking a two-letter test key
would garble every string in the log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from raia_provider.testing.emulator.matching import ANY, RequestMatcher

SECRET_HEADERS = frozenset({"agent-secret-key", "organization-secret-key", "super-admin-secret-key"})
MASKED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
MASK = "***"
MIN_REDACTED_KEY_LENGTH = 8


@dataclass(frozen=True)
class RecordedRequest:
    """One request seen on ``/external``.

    :param seq: position in the log, from 1.
    :param method: HTTP method.
    :param path: request path.
    :param query: raw query string (without ``?``).
    :param body: parsed JSON body; for multipart ``{"fields": {name: value}, "files": [{"field", "fileName",
        "contentType", "size", "sha256"}]}`` (digested while streaming, never the bytes; ``None`` until the
        body has been read); other bodies as text; ``None`` when empty.
    :param status: response status, ``None`` if the connection was reset before any response.
    :param agent_id: id of the agent whose key was presented, ``None`` if missing or unknown.
    :param headers: request headers, lower-cased, secret-key headers removed.
    :param timestamp: ``time.monotonic()`` at arrival.
    :param fault: kind of the injected fault that hit this request, if any.
    :param finished: ``False`` while the request is still being answered (``status`` is then ``None``).
    """

    seq: int
    method: str
    path: str
    query: str
    body: Any
    status: int | None
    agent_id: str | None
    headers: dict[str, str] = field(default_factory=dict)
    timestamp: float = 0.0
    fault: str | None = None
    finished: bool = False


def redact(value: Any, secret: str | None) -> Any:
    """Return ``value`` with every occurrence of ``secret`` masked (recursing into lists and dicts).

    :param value: a JSON-like value.
    :param secret: the presented key; ignored when shorter than :data:`MIN_REDACTED_KEY_LENGTH`.
    """
    if not secret or len(secret) < MIN_REDACTED_KEY_LENGTH:
        return value
    if isinstance(value, str):
        return value.replace(secret, MASK)
    if isinstance(value, list):
        return [redact(item, secret) for item in value]
    if isinstance(value, dict):
        return {redact(key, secret): redact(item, secret) for key, item in value.items()}
    return value


def loggable_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Turn ASGI headers into a dict fit for the log: secret-key headers dropped, credentials masked.

    :param raw: ASGI ``(name, value)`` byte pairs.
    """
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        if name in SECRET_HEADERS:
            continue
        value = MASK if name in MASKED_HEADERS else raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


class RequestLog:
    """Thread-safe list of :class:`RecordedRequest` in arrival order.

    A request is recorded when it arrives (:meth:`start`) and updated when answered (:meth:`finish`), so a
    request still in flight (e.g. held by a ``slow`` fault) is already visible and counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, RecordedRequest] = {}
        self._seq = 0

    def start(self, **fields: Any) -> int:
        """Record an arriving request and return its ``seq``.

        :param fields: the :class:`RecordedRequest` fields known on arrival (all but ``seq``, ``status``
            and ``finished``).
        """
        with self._lock:
            self._seq += 1
            self._entries[self._seq] = RecordedRequest(seq=self._seq, status=None, **fields)
            return self._seq

    def finish(self, seq: int, status: int | None) -> None:
        """Record how a request was answered (ignored if the log was cleared meanwhile).

        :param seq: the request's ``seq``.
        :param status: the response status, ``None`` if none was sent.
        """
        with self._lock:
            entry = self._entries.get(seq)
            if entry is not None:
                self._entries[seq] = replace(entry, status=status, finished=True)

    def update_body(self, seq: int, body: Any) -> None:
        """Record a body summarized after arrival (a streamed multipart body; ignored if cleared meanwhile).

        :param seq: the request's ``seq``.
        :param body: what the log keeps of the body.
        """
        with self._lock:
            entry = self._entries.get(seq)
            if entry is not None:
                self._entries[seq] = replace(entry, body=body)

    def select(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Return the entries matching ``method`` and ``path`` (a pattern, see :mod:`.matching`).

        :param method: HTTP method, ``None`` for any.
        :param path: path pattern, ``None`` for any.
        """
        matcher = RequestMatcher(method or ANY, path or ANY)
        with self._lock:
            entries = list(self._entries.values())
        return [entry for entry in entries if matcher.matches(entry.method, entry.path)]

    def clear(self) -> None:
        """Forget every entry and restart ``seq`` at 1."""
        with self._lock:
            self._entries.clear()
            self._seq = 0
