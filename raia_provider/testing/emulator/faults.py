"""Fault rules and the per-agent token-bucket rate limiter.

Fault kinds (each applies to the next ``count`` requests matching ``method`` + ``path``; the path syntax is
described in :mod:`raia_provider.testing.emulator.matching`):

``status``
    Answer ``status`` with raia's body for that code (:func:`~.errors.body_for_status`), without running the
    request. ``retry_after`` (whole seconds) adds a ``Retry-After`` header; ``None`` omits it, so a client's
    fallback backoff can be tested.
``reset``
    Close the connection with no HTTP response at all (TCP RST). The request is not run.
``reset_mid_response``
    Run the request, send the status line and headers (with the full ``Content-Length``) and half the
    body, then close the connection. The request **has** taken effect, as when a real response is lost.
``slow``
    Wait ``delay`` seconds, then run and answer the request normally (to trigger client read timeouts).
``malformed_json``
    Answer 200 with ``Content-Type: application/json`` and a truncated JSON body. The request is not run.
``html``
    Answer ``status`` (default 502) with a ``text/html`` proxy error page. The request is not run.

Rules are consulted in the order they were added; the first matching rule is consumed (its count drops by
one and it disappears at zero). A rule with ``after`` lets that many matching requests through first, so a
fault can hit the middle of a task (the third upload of five) rather than its first request.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from raia_provider.testing.emulator.matching import ANY, RequestMatcher

FaultKind = Literal["status", "reset", "reset_mid_response", "slow", "malformed_json", "html"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

DEFAULT_HTML_STATUS = 502
DEFAULT_SLOW_DELAY = 5.0


@dataclass(frozen=True)
class Fault:
    """One fault rule.

    :param kind: what goes wrong (see the module docstring).
    :param method: HTTP method to match, ``"*"`` for any.
    :param path: path pattern to match.
    :param count: how many more matching requests this rule will hit.
    :param status: status code for ``status`` and ``html`` faults.
    :param retry_after: ``Retry-After`` seconds for ``status`` faults (``None``: no header).
    :param delay: seconds to wait for ``slow`` faults.
    :param after: how many matching requests pass untouched before the rule starts hitting.
    :param id: identifier of the rule.
    """

    kind: FaultKind
    method: str = ANY
    path: str = ANY
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    after: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs a status code")
        if self.kind == "html" and self.status is None:
            object.__setattr__(self, "status", DEFAULT_HTML_STATUS)
        if self.status is not None and not 200 <= self.status <= 599:
            raise ValueError("status must be between 200 and 599")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.kind == "slow" and self.delay <= 0:
            object.__setattr__(self, "delay", DEFAULT_SLOW_DELAY)
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.after < 0:
            raise ValueError("after must not be negative")
        object.__setattr__(self, "method", self.method.upper())
        RequestMatcher(self.method, self.path)  # fail early on a bad pattern


class FaultBook:
    """Thread-safe ordered list of fault rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[tuple[Fault, RequestMatcher]] = []

    def add(self, fault: Fault) -> Fault:
        """Append a rule and return it.

        :param fault: the rule.
        """
        with self._lock:
            self._rules.append((fault, RequestMatcher(fault.method, fault.path)))
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one hit of the first rule matching the request, if any.

        :param method: the request method.
        :param path: the request path.
        :return: the rule as it was before this hit, or ``None``.
        """
        with self._lock:
            for index, (fault, matcher) in enumerate(self._rules):
                if matcher.matches(method, path):
                    if fault.after:
                        self._rules[index] = (replace(fault, after=fault.after - 1), matcher)
                        return None
                    if fault.count == 1:
                        del self._rules[index]
                    else:
                        self._rules[index] = (replace(fault, count=fault.count - 1), matcher)
                    return fault
        return None

    def list(self) -> list[Fault]:
        """Return the pending rules in order, with their remaining counts."""
        with self._lock:
            return [fault for fault, _ in self._rules]

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self._rules.clear()


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Per-agent token buckets: ``rate`` tokens per second, holding at most ``burst``.

    :param clock: monotonic clock, in seconds.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._burst = 1
        self._buckets: dict[str, _Bucket] = {}

    def configure(self, rate: float | None, burst: int | None) -> None:
        """Set the limit and refill every bucket.

        :param rate: requests per second, ``None`` for no limit.
        :param burst: bucket size; ``None`` means one second's worth (at least 1).
        """
        with self._lock:
            self._rate = rate
            self._burst = burst if burst is not None else max(1, math.ceil(rate or 1))
            self._buckets.clear()

    def acquire(self, agent_id: str) -> int | None:
        """Take a token for ``agent_id``.

        :param agent_id: whose bucket to draw from.
        :return: ``None`` if allowed, else the whole seconds (>= 1) until a token is free.
        """
        with self._lock:
            if self._rate is None:
                return None
            now = self._clock()
            bucket = self._buckets.setdefault(agent_id, _Bucket(tokens=float(self._burst), updated=now))
            bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self._rate))
