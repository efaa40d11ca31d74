"""The blocking transport: one ``requests.Session`` per hook, so connections are kept alive.

Redirects are never followed (``requests`` would send the ``Agent-Secret-Key`` header along to any host:
it strips only ``Authorization``); a 3xx comes back as an answer and is reported as such. The answer is
streamed, up to the size limit, and the whole of it must arrive before its deadline
(:mod:`raia_provider._core.sync_deadline`).
"""

from __future__ import annotations

import requests

from raia_provider._core.operation import PreparedRequest
from raia_provider._core.responses import RawResponse
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider._core.sync_deadline import DeadlineAdapter, answer_deadline
from raia_provider._core.wire import (
    CHUNK_BYTES,
    BodyCollector,
    WireLimits,
    common_headers,
    connection_error,
    request_headers,
    timeout_error,
    url_for,
)
from raia_provider.exceptions import RaiaError


class SyncTransport:
    """Send prepared requests with ``requests``; map its failures to the provider's exceptions.

    :param settings: the validated connection.
    :param limits: the timeouts and the answer size limit applied to every call.
    """

    def __init__(self, settings: RaiaConnectionSettings, limits: WireLimits) -> None:
        self._settings = settings
        self._limits = limits
        self._session = requests.Session()
        self._session.headers.update(common_headers())
        adapter = DeadlineAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def send(self, request: PreparedRequest) -> RawResponse:
        """Send ``request`` once and return raia's answer, whatever its status.

        :param request: the prepared request.
        :raises RaiaTimeoutError: if connecting took longer than the connect timeout, or the whole answer
            longer than its deadline.
        :raises RaiaConnectionError: if no HTTP answer arrived.
        :raises RaiaResponseTooLargeError: if the body is larger than the limit.
        """
        failure: RaiaError
        limits = self._limits
        with answer_deadline(limits.answer_within) as deadline:
            try:
                upload = request.multipart
                response = self._session.request(
                    request.operation.method,
                    url_for(self._settings, request),
                    params=request.params or None,
                    json=request.json,
                    data=upload.reader() if upload else None,
                    headers=request_headers(self._settings, request),
                    timeout=(limits.connect, limits.read),
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    body = BodyCollector(request, response.status_code, response.headers, limits.max_response_bytes)
                    for chunk in response.iter_content(CHUNK_BYTES):
                        body.add(chunk)
                finally:
                    response.close()
            except requests.Timeout as exc:
                failure = timeout_error(request, self._settings, limits, exc)
            except requests.RequestException as exc:
                failure = (
                    timeout_error(request, self._settings, limits, None)
                    if deadline.expired
                    else connection_error(request, self._settings, exc)
                )
            else:
                if not deadline.expired:
                    return RawResponse(response.status_code, response.headers, body.content(), self._settings.base_url)
                # The cut connection read as the end of the body: what arrived is not the whole answer.
                failure = timeout_error(request, self._settings, limits, None)
        # Raised out here, not in the handlers: even "from None" keeps the library's error as __context__,
        # and it holds the request, the key's header included.
        raise failure

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()
