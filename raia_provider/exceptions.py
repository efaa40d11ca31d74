"""Typed exceptions raised by the raia provider.

Every message says what happened and what to do about it, and none of them ever contains the agent's
secret key: the hook redacts it from anything raia echoes back before an exception is built.

Hierarchy::

    RaiaError
    ├── RaiaConfigurationError   the connection is unusable (no key, unknown region, bad base URL)
    ├── RaiaInputError           an argument is invalid; raised before any request is sent
    ├── RaiaAPIError             raia answered with an error status
    │   ├── RaiaAuthError            401/403: key refused
    │   ├── RaiaNotFoundError        404
    │   ├── RaiaBadRequestError      400 and every other 4xx raia may send
    │   ├── RaiaRedirectError        3xx: the base URL redirects (never followed: the key would go along)
    │   ├── RaiaRateLimitError       429 (transient; carries ``retry_after``)
    │   └── RaiaServerError          5xx (transient)
    ├── RaiaConnectionError      no HTTP answer: refused, reset, DNS (transient)
    ├── RaiaTimeoutError         a request took longer than its timeout (transient)
    ├── RaiaStorageError         the storage host behind a signed upload URL did not take a file
    ├── RaiaResponseError        raia's answer does not match the published contract
    │   ├── RaiaMalformedResponseError   not JSON at all, e.g. a truncated body (transient)
    │   └── RaiaResponseTooLargeError    a body over the hook's ``max_response_bytes``
    ├── RaiaPromptFailedError    raia processed the prompt and reported ``status: failed``
    ├── RaiaAnswerFormatError    an answer asked for as JSON is not JSON, or does not match its schema
    ├── RaiaMessageFailedError   raia reported ``status: failed`` for the reply to a message
    ├── RaiaWaitTimeoutError     an answer was still pending when the wait's ``timeout`` ran out
    ├── RaiaPollError            waiting for an answer gave up (errors in a row, or a permanent one)
    ├── RaiaTriggerEventError    a deferred task resumed with an event it cannot read
    ├── RaiaPartialFailureError  some items of a multi-item task failed; says which succeeded
    └── RaiaUnsafeSyncError      a knowledge sync would remove more than ``max_delete_ratio`` allows
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RaiaError(Exception):
    """Base class of every error the raia provider raises."""


class RaiaConfigurationError(RaiaError, ValueError):
    """The ``raia`` connection cannot be used as configured; raised before any request."""


class RaiaInputError(RaiaError, ValueError):
    """An argument is invalid; raised before any request so that nothing is sent or lost."""


class RaiaAPIError(RaiaError):
    """raia answered with an HTTP error status.

    :param message: the full, human-readable explanation.
    :param status_code: the HTTP status raia returned.
    :param method: the HTTP method of the failed request.
    :param path: the path of the failed request, relative to the base URL.
    :param error_name: raia's error ``name`` (e.g. ``FORBIDDEN_ERROR``), if the body had one.
    :param error_message: raia's error ``message`` (e.g. ``INVALID_CREDENTIALS``), if the body had one.
    :param details: raia's ``details`` array, if any.
    """

    #: Whether retrying the same request later may succeed.
    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        path: str,
        error_name: str | None = None,
        error_message: str | None = None,
        details: Sequence[Any] = (),
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.method = method
        self.path = path
        self.error_name = error_name
        self.error_message = error_message
        self.details = list(details)


class RaiaAuthError(RaiaAPIError):
    """raia refused the Agent Secret Key (403, or 401 from a proxy)."""


class RaiaNotFoundError(RaiaAPIError):
    """The addressed entity (prompt, agent, file...) does not exist for this agent."""


class RaiaBadRequestError(RaiaAPIError):
    """raia rejected the request itself (400, or any other 4xx that retrying will not fix)."""


class RaiaRedirectError(RaiaAPIError):
    """The base URL answered with a redirect (3xx), which the provider never follows.

    :param location_scheme: the redirect target's scheme (``https``), if it named one.
    :param location_host: the redirect target's host (and port), if it named one.
    """

    def __init__(
        self, message: str, *, location_scheme: str | None = None, location_host: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.location_scheme = location_scheme
        self.location_host = location_host


class RaiaRateLimitError(RaiaAPIError):
    """raia asked the client to back off (429).

    :param retry_after: seconds raia asked to wait (from ``Retry-After``), or ``None`` if it did not say.
    """

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RaiaServerError(RaiaAPIError):
    """raia (or a proxy in front of it) failed with a 5xx status."""

    transient = True


class RaiaConnectionError(RaiaError):
    """No HTTP answer was received: connection refused or reset, name resolution failed."""

    transient = True


class RaiaTimeoutError(RaiaError):
    """A request to raia took longer than its connect or read timeout."""

    transient = True


class RaiaStorageError(RaiaError):
    """The storage service behind a signed upload URL did not take a file (its host is not raia's).

    :param message: the full, human-readable explanation (never the URL's signature).
    :param status_code: the HTTP status it answered with, or ``None`` when the URL itself was unusable.
    :param host: the storage service's scheme, host and port.
    """

    def __init__(self, message: str, *, status_code: int | None, host: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.host = host
        #: Whether retrying the upload later may succeed (408, 429 and 5xx).
        self.transient = status_code is not None and (status_code in (408, 429) or status_code >= 500)


class RaiaResponseError(RaiaError):
    """raia's answer does not match its published contract (missing required field, wrong type...)."""

    transient = False


class RaiaMalformedResponseError(RaiaResponseError):
    """raia's answer claimed success but was not valid JSON (often a body cut short in transit)."""

    transient = True


class RaiaResponseTooLargeError(RaiaResponseError):
    """raia's answer was larger than the hook's ``max_response_bytes``; it was not read further."""


class RaiaAnswerFormatError(RaiaError):
    """An answer asked for as structured data is not valid JSON, or does not match the output schema.

    Not transient: asking again may give another answer, but the fix is in the agent's instructions or in the
    schema. The raw answer is kept so a batch can write it next to the error.

    :param message: the full, human-readable explanation.
    :param path: where in the answer it went wrong, as a JSON path (``$`` for the whole answer).
    :param reason: what was wrong there.
    :param answer: the raw answer text.
    """

    def __init__(self, message: str, *, path: str, reason: str, answer: str | None) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason
        self.answer = answer


class RaiaPromptFailedError(RaiaError):
    """raia processed the prompt and reported ``status: failed``.

    :param message: the full, human-readable explanation.
    :param prompt_id: the async prompt's id, or ``None`` for a synchronous prompt.
    :param raia_error: raia's own ``error`` text.
    """

    def __init__(self, message: str, *, prompt_id: str | None = None, raia_error: str | None = None) -> None:
        super().__init__(message)
        self.prompt_id = prompt_id
        self.raia_error = raia_error


class RaiaMessageFailedError(RaiaError):
    """raia processed a conversation message and reported ``status: failed`` for the agent's reply.

    :param message: the full, human-readable explanation.
    :param conversation_id: the conversation's id.
    :param question_message_id: the id of the message that was answered.
    :param raia_error: raia's own ``error`` text.
    """

    def __init__(
        self,
        message: str,
        *,
        conversation_id: str | None = None,
        question_message_id: str | None = None,
        raia_error: str | None = None,
    ) -> None:
        super().__init__(message)
        self.conversation_id = conversation_id
        self.question_message_id = question_message_id
        self.raia_error = raia_error


class RaiaWaitTimeoutError(RaiaError):
    """An async prompt or message reply was still pending when the wait's ``timeout`` ran out.

    The work may still finish at raia; the id in the message lets a later task (or a sensor) pick it up.
    """


class RaiaPollError(RaiaError):
    """Waiting for an answer gave up: a permanent error (e.g. 403/404), or transient ones too many times in a row."""


class RaiaTriggerEventError(RaiaError):
    """A deferred task resumed with an event that is missing, malformed, or has an unknown status."""


class RaiaPartialFailureError(RaiaError):
    """Some items of a multi-item task (e.g. files of an upload) failed while others succeeded.

    :param message: the full explanation: which items failed and why, which succeeded.
    :param succeeded: what was done (JSON-ready, e.g. one dict per uploaded file).
    :param failed: what failed (JSON-ready, e.g. one dict per file with its error).
    """

    def __init__(self, message: str, *, succeeded: list[Any], failed: list[Any]) -> None:
        super().__init__(message)
        self.succeeded = succeeded
        self.failed = failed


class RaiaUnsafeSyncError(RaiaError):
    """A knowledge sync refused to run: it would remove more of the agent's files than allowed.

    Raised after planning and before any upload or delete, so nothing has changed.

    :param message: what would have been removed, and how to allow it if it is meant.
    :param removals: how many files the plan would remove.
    :param agent_files: how many files the agent holds.
    """

    def __init__(self, message: str, *, removals: int, agent_files: int) -> None:
        super().__init__(message)
        self.removals = removals
        self.agent_files = agent_files


def is_transient(error: BaseException) -> bool:
    """Return whether ``error`` is one that retrying the same request may cure.

    :param error: the exception raised by a request.
    """
    return bool(isinstance(error, RaiaError) and getattr(error, "transient", False))
