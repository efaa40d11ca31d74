"""What both transports put on the wire besides the request itself: headers, URL, timeouts."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from functools import cache

from raia_provider import __version__
from raia_provider._core.operation import PreparedRequest
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider.exceptions import RaiaConnectionError, RaiaInputError, RaiaTimeoutError

AUTH_HEADER = "Agent-Secret-Key"


@dataclass(frozen=True)
class Timeouts:
    """Per-request timeouts in seconds.

    :param connect: to establish a connection.
    :param read: to wait for each chunk of the answer; synchronous prompts can take minutes.
    """

    connect: float = 10.0
    read: float = 120.0

    def __post_init__(self) -> None:
        for name in ("connect", "read"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise RaiaInputError(
                    f"RaiaHook: argument '{name}_timeout' must be a number of seconds greater than 0, got {value!r}"
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
    request: PreparedRequest, settings: RaiaConnectionSettings, timeouts: Timeouts, cause: BaseException
) -> RaiaTimeoutError:
    """Describe a request that timed out, the same way for both transports.

    :param request: the request that timed out.
    :param settings: the validated connection.
    :param timeouts: the timeouts in force.
    :param cause: the client library's exception.
    """
    return RaiaTimeoutError(
        f"raia {request.operation.label} timed out ({_describe(cause)}; connect {timeouts.connect:g} s, "
        f"read {timeouts.read:g} s) at {settings.base_url}."
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
