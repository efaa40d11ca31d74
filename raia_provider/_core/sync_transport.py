"""The blocking transport: one ``requests.Session`` per hook, so connections are kept alive."""

from __future__ import annotations

import requests

from raia_provider._core.operation import PreparedRequest
from raia_provider._core.responses import RawResponse
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider._core.wire import Timeouts, common_headers, connection_error, request_headers, timeout_error, url_for
from raia_provider.exceptions import RaiaError


class SyncTransport:
    """Send prepared requests with ``requests``; map its failures to the provider's exceptions.

    :param settings: the validated connection.
    :param timeouts: connect and read timeouts applied to every call.
    """

    def __init__(self, settings: RaiaConnectionSettings, timeouts: Timeouts) -> None:
        self._settings = settings
        self._timeouts = timeouts
        self._session = requests.Session()
        self._session.headers.update(common_headers())

    def send(self, request: PreparedRequest) -> RawResponse:
        """Send ``request`` once and return raia's answer, whatever its status.

        :param request: the prepared request.
        :raises RaiaTimeoutError: if connecting or reading took longer than the timeouts.
        :raises RaiaConnectionError: if no HTTP answer arrived.
        """
        failure: RaiaError
        try:
            upload = request.multipart
            response = self._session.request(
                request.operation.method,
                url_for(self._settings, request),
                params=request.params or None,
                json=request.json,
                data=upload.reader() if upload else None,
                headers=request_headers(self._settings, request),
                timeout=(self._timeouts.connect, self._timeouts.read),
            )
            content = response.content
        except requests.Timeout as exc:
            failure = timeout_error(request, self._settings, self._timeouts, exc)
        except requests.RequestException as exc:
            failure = connection_error(request, self._settings, exc)
        else:
            return RawResponse(status=response.status_code, headers=response.headers, content=content)
        # Raised out here, not in the handlers: even "from None" keeps the library's error as __context__,
        # and it holds the request, the key's header included.
        raise failure

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()
