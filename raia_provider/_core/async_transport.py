"""The non-blocking transport for triggers: ``httpx.AsyncClient`` (already installed with Airflow)."""

from __future__ import annotations

import httpx

from raia_provider._core.operation import PreparedRequest
from raia_provider._core.responses import RawResponse
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider._core.wire import Timeouts, common_headers, connection_error, request_headers, timeout_error, url_for


class AsyncTransport:
    """Send prepared requests with httpx; map its failures to the provider's exceptions.

    :param settings: the validated connection.
    :param timeouts: connect and read timeouts applied to every call.
    """

    def __init__(self, settings: RaiaConnectionSettings, timeouts: Timeouts) -> None:
        self._settings = settings
        self._timeouts = timeouts
        self._client = httpx.AsyncClient(
            headers=common_headers(),
            timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
        )

    async def send(self, request: PreparedRequest) -> RawResponse:
        """Send ``request`` once and return raia's answer, whatever its status.

        :param request: the prepared request.
        :raises RaiaTimeoutError: if connecting or reading took longer than the timeouts.
        :raises RaiaConnectionError: if no HTTP answer arrived.
        """
        try:
            upload = request.multipart
            response = await self._client.request(
                request.operation.method,
                url_for(self._settings, request),
                params=request.params or None,
                json=request.json,
                content=upload.aiter() if upload else None,
                headers=request_headers(self._settings, request),
            )
        except httpx.TimeoutException as exc:
            raise timeout_error(request, self._settings, self._timeouts, exc) from None
        except httpx.HTTPError as exc:
            raise connection_error(request, self._settings, exc) from None
        return RawResponse(status=response.status_code, headers=response.headers, content=response.content)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
