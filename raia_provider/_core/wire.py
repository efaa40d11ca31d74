"""What both transports put on the wire besides the request itself, and what they accept back: headers, URL,
the answer's deadline and its size limit.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from raia_provider import __version__
from raia_provider._core.operation import PreparedRequest
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider.exceptions import RaiaConnectionError, RaiaInputError, RaiaResponseTooLargeError, RaiaTimeoutError

AUTH_HEADER = "Agent-Secret-Key"
#: The largest answer read by default: far above any raia answer (a prompt's reply, a page of 100
#: conversations), far below what would hurt a worker or a triggerer shared by many tasks.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
#: How much of an answer is read at a time (so the size limit and the deadline are checked as it arrives).
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class WireLimits:
    """What one request may take: its timeouts in seconds and the size of its answer.

    :param connect: to establish a connection.
    :param read: to wait for the whole answer, headers and body, however slowly it arrives; synchronous
        prompts can take minutes. The answer's deadline is ``connect + read`` after the request starts.
    :param max_response_bytes: the largest answer body read; a larger one fails the request.
    """

    connect: float = 10.0
    read: float = 120.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        for name in ("connect", "read"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise RaiaInputError(
                    f"RaiaHook: argument '{name}_timeout' must be a number of seconds greater than 0, got {value!r}"
                )
        size = self.max_response_bytes
        if not isinstance(size, int) or isinstance(size, bool) or size < 1024:
            raise RaiaInputError(
                f"RaiaHook: argument 'max_response_bytes' must be a whole number of bytes, at least 1024; got {size!r}"
            )

    @property
    def answer_within(self) -> float:
        """Seconds from the start of a request by which its whole answer must have arrived."""
        return self.connect + self.read


class BodyCollector:
    """Gathers an answer's body chunk by chunk, refusing it as soon as it is larger than the limit.

    :param request: the request being answered (for the message).
    :param status: the answer's HTTP status.
    :param headers: the answer's headers (a ``Content-Length`` over the limit is refused before any read).
    :param limit: the largest body accepted, in bytes.
    """

    def __init__(self, request: PreparedRequest, status: int, headers: Mapping[str, str], limit: int) -> None:
        self._request, self._status, self._limit = request, status, limit
        self._chunks: list[bytes] = []
        self._size = 0
        declared = headers.get("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise self._too_large(f"its Content-Length is {int(declared):,} bytes")

    def add(self, chunk: bytes) -> None:
        """Take the next chunk of the body.

        :raises RaiaResponseTooLargeError: once the body is over the limit.
        """
        self._size += len(chunk)
        if self._size > self._limit:
            self._chunks.clear()
            raise self._too_large(f"more than {self._limit:,} bytes arrived")
        self._chunks.append(chunk)

    def content(self) -> bytes:
        """The whole body."""
        return b"".join(self._chunks)

    def _too_large(self, how: str) -> RaiaResponseTooLargeError:
        return RaiaResponseTooLargeError(
            f"raia answered {self._request.operation.label} with HTTP {self._status} and a body over the "
            f"{self._limit:,}-byte limit ({how}); it was not read further and is not retried. No raia answer "
            "is that large: check the connection's base URL (a proxy or a wrong host answers), or raise the "
            "hook's max_response_bytes."
        )


@cache
def user_agent() -> str:
    """``airflow-provider-raia/X apache-airflow/Y python/Z``, so raia can tell who calls."""
    import airflow  # already imported by the hook's base class; only its version is read here

    return (
        f"airflow-provider-raia/{__version__} apache-airflow/{airflow.__version__} python/{platform.python_version()}"
    )


def common_headers() -> dict[str, str]:
    """The headers every request carries, set once on the pooled client."""
    return {"User-Agent": user_agent(), "Accept": "application/json"}


def request_headers(settings: RaiaConnectionSettings, request: PreparedRequest) -> dict[str, str]:
    """The headers of one request: the key under the request's auth header, plus an upload's headers.

    :param settings: the validated connection.
    :param request: the prepared request.
    """
    headers = {request.auth_header: settings.api_key}
    if request.multipart is not None:
        headers.update(request.multipart.headers())
    return headers


def url_for(settings: RaiaConnectionSettings, request: PreparedRequest) -> str:
    """Join the connection's base URL and the request's path.

    :param settings: the validated connection.
    :param request: the prepared request.
    """
    return settings.base_url + request.path


def timeout_error(
    request: PreparedRequest, settings: RaiaConnectionSettings, limits: WireLimits, cause: BaseException | None
) -> RaiaTimeoutError:
    """Describe a request that timed out, the same way for both transports.

    :param request: the request that timed out.
    :param settings: the validated connection.
    :param limits: the timeouts in force.
    :param cause: the client library's exception, or ``None`` when the whole answer's deadline passed.
    """
    how = (
        _describe(cause) if cause is not None else f"the whole answer did not arrive within {limits.answer_within:g} s"
    )
    return RaiaTimeoutError(
        f"raia {request.operation.label} timed out ({how}; connect {limits.connect:g} s, "
        f"read {limits.read:g} s) at {settings.base_url}."
    )


def connection_error(
    request: PreparedRequest, settings: RaiaConnectionSettings, cause: BaseException
) -> RaiaConnectionError:
    """Describe a request that got no HTTP answer, the same way for both transports.

    :param request: the request that failed.
    :param settings: the validated connection.
    :param cause: the client library's exception.
    """
    return RaiaConnectionError(
        f"raia {request.operation.label} got no answer from {settings.base_url} ({_describe(cause)}). "
        "Check the connection's region or base URL and the network path to raia."
    )


def _describe(cause: BaseException) -> str:
    # Only the client library's text: its exception objects also hold the request, headers included,
    # which is why callers raise these errors outside their except blocks (not even as __context__).
    text = " ".join(str(cause).split())[:200]
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__
