"""A deadline for a blocking request's whole answer: ``requests`` bounds each socket read, never the answer.

A server that sends its headers, then a byte a second, never trips a read timeout. So each blocking request
runs under an :class:`AnswerDeadline`: when it passes, one watchdog thread (per process, started at the first
request) shuts the socket the request is using, the blocked read returns, and the transport reports a
timeout. Which socket: the connection classes of :class:`DeadlineAdapter`'s pools note, at each request, the
connection the current thread sends on.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import PoolManager, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: The deadline of the request the current thread is sending, if any.
_current = threading.local()


class AnswerDeadline:
    """One request's deadline, and the connection to cut when it passes.

    :param at: the deadline, in ``time.monotonic()`` seconds.
    """

    def __init__(self, at: float) -> None:
        self.at = at
        self.expired = False
        self.finished = False
        self._connection: HTTPConnection | None = None
        self._lock = threading.Lock()

    def sending_on(self, connection: HTTPConnection) -> None:
        """Note the connection the request goes out on (cut at once if the deadline already passed)."""
        with self._lock:
            self._connection = connection
            expired = self.expired
        if expired:
            _shut(connection)

    def expire(self) -> None:
        """The deadline passed: shut the request's connection, so its blocked read returns."""
        with self._lock:
            if self.finished:
                return
            self.expired = True
            connection = self._connection
        if connection is not None:
            _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing is waiting on it
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread that expires deadlines in order; a deadline costs a heap push, not a thread."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked task process starts its own thread

    def _reset(self) -> None:
        self._heap: list[tuple[float, int, AnswerDeadline]] = []
        self._finished = 0
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: AnswerDeadline) -> None:
        with self._wake:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="raia-answer-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is deadline:
                # Only a deadline sooner than every other changes when the thread must wake; waking it for each
                # request (whose deadline is nearly always the latest) would cost a thread switch per request.
                self._wake.notify()

    def finish(self, deadline: AnswerDeadline) -> None:
        with deadline._lock:
            deadline.finished = True
        with self._wake:
            self._finished += 1
            if self._finished > 1024 and self._finished * 2 > len(self._heap):  # drop the finished in one go
                self._heap = [entry for entry in self._heap if not entry[2].finished]
                heapq.heapify(self._heap)
                self._finished = 0

    def _run(self) -> None:
        while True:
            with self._wake:
                while True:
                    while self._heap and self._heap[0][2].finished:
                        heapq.heappop(self._heap)
                        self._finished = max(0, self._finished - 1)
                    if not self._heap:
                        self._wake.wait()
                        continue
                    left = self._heap[0][0] - time.monotonic()
                    if left <= 0:
                        due = heapq.heappop(self._heap)[2]
                        break
                    self._wake.wait(left)
            due.expire()


_WATCHDOG = _Watchdog()


@contextmanager
def answer_deadline(seconds: float) -> Iterator[AnswerDeadline]:
    """Bound the blocking request sent inside the block (on this thread) to ``seconds`` in all.

    :param seconds: how long the whole answer may take.
    """
    deadline = AnswerDeadline(time.monotonic() + seconds)
    _current.deadline = deadline
    _WATCHDOG.watch(deadline)
    try:
        yield deadline
    finally:
        _current.deadline = None
        _WATCHDOG.finish(deadline)


def _note_connection(connection: HTTPConnection) -> None:
    deadline: AnswerDeadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.sending_on(connection)


class _HTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _note_connection(self)
        super().request(*args, **kwargs)


class _HTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _note_connection(self)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """``requests``' adapter whose connections can be cut by an :func:`answer_deadline` (direct or via a proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # a SOCKS manager has pools of its own kind: the deadline stays unforced
            manager.pool_classes_by_scheme = _POOLS
        return manager
