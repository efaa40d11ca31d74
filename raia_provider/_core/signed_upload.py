"""Putting a file's bytes to a signed upload URL: raia's storage service, not raia.

``POST /prompts/upload-url`` (and a conversation's ``message-files/upload-url``) answers with a pre-signed
URL on a storage host; the bytes go there and the prompt then names the file by its ``storagePath``. That
host is not the connection's, so the raia key must never reach it: these requests go through their own
clients, which carry no raia header at all, never follow a redirect, and never name the URL's query (its
signature) in a message or a log.

raia does not document the method or headers of the signed URL; a ``PUT`` of the bare bytes under the
file's ``Content-Type`` is what signed storage URLs (S3, GCS, Azure) take.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from raia_provider._core.multipart import FileBody, FilePart
from raia_provider._core.wire import WireLimits, user_agent
from raia_provider.exceptions import (
    RaiaConnectionError,
    RaiaError,
    RaiaInputError,
    RaiaStorageError,
    RaiaTimeoutError,
)

#: How much of a storage service's error body a message quotes.
_QUOTED_BODY = 300


def storage_host(signed_url: str) -> str:
    """The scheme, host and port of a signed URL, without its path or query (which carry the signature).

    :param signed_url: the URL raia handed out.
    """
    parts = urlsplit(signed_url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def check_signed_url(signed_url: str) -> None:
    """Refuse a signed URL that is not an absolute ``http(s)`` URL.

    :param signed_url: the URL raia handed out.
    :raises RaiaStorageError: (not transient) when raia's answer cannot be used.
    """
    parts = urlsplit(signed_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RaiaStorageError(
            f"raia handed out a signed upload URL that is not an absolute http(s) URL (scheme {parts.scheme!r}); "
            "the file was not uploaded.",
            status_code=None,
            host=storage_host(signed_url),
        )


class SignedUploadTransport:
    """``PUT`` files to signed URLs, blocking (``requests``) or async (``aiohttp``), without any raia header.

    :param limits: the connect/read timeouts applied to each upload.
    """

    def __init__(self, limits: WireLimits) -> None:
        self._limits = limits
        self._session: requests.Session | None = None

    def put(self, signed_url: str, file: FilePart) -> None:
        """Stream ``file`` to ``signed_url`` once.

        :param signed_url: the pre-signed URL.
        :param file: the file to send (opened now, read in chunks).
        :raises RaiaStorageError: the storage service answered with an error status (transient for 408,
            429 and 5xx).
        :raises RaiaTimeoutError: connecting or a wait for the answer took too long.
        :raises RaiaConnectionError: no HTTP answer arrived.
        """
        check_signed_url(signed_url)
        if self._session is None:
            self._session = requests.Session()
            self._session.trust_env = True  # a proxy the deployment sets for storage is honoured
        body = FileBody(file)
        failure: RaiaError
        try:
            response = self._session.put(
                signed_url,
                data=body.reader(),
                headers={"User-Agent": user_agent(), **body.headers()},
                timeout=(self._limits.connect, self._limits.read),
                allow_redirects=False,
            )
            try:
                status, text = response.status_code, response.text[:_QUOTED_BODY]
            finally:
                response.close()
        except requests.Timeout as exc:
            failure = _timeout(file, signed_url, self._limits, exc)
        except requests.RequestException as exc:
            failure = _no_answer(file, signed_url, exc)
        except OSError as exc:  # the file itself, e.g. removed since it was checked
            failure = _unreadable(file, exc)
        else:
            _check_status(file, signed_url, status, text)
            return
        raise failure  # out here: the library's exception, as __context__, would hold the URL's signature

    async def aput(self, signed_url: str, file: FilePart) -> None:
        """The async twin of :meth:`put`, for the batch (file reads run in a worker thread).

        :param signed_url: the pre-signed URL.
        :param file: the file to send.
        """
        import aiohttp

        check_signed_url(signed_url)
        body = FileBody(file)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._limits.connect, sock_read=self._limits.read)
        failure: RaiaError
        try:
            # Its own session: the raia session is shared per event loop and must never serve another host.
            async with (
                aiohttp.ClientSession(trust_env=True) as session,
                session.put(
                    signed_url,
                    data=body.aiter(),
                    headers={"User-Agent": user_agent(), **body.headers()},
                    timeout=timeout,
                    allow_redirects=False,
                ) as response,
            ):
                status, text = response.status, (await response.content.read(_QUOTED_BODY)).decode(errors="replace")
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            failure = _timeout(file, signed_url, self._limits, exc)
        except aiohttp.ClientError as exc:
            failure = _no_answer(file, signed_url, exc)
        except OSError as exc:
            failure = _unreadable(file, exc)
        else:
            _check_status(file, signed_url, status, text)
            return
        raise failure

    def close(self) -> None:
        """Close the blocking client's pooled connections, if it was opened."""
        if self._session is not None:
            self._session.close()
            self._session = None


def _check_status(file: FilePart, signed_url: str, status: int, text: str) -> None:
    if 200 <= status < 300:
        return
    host = storage_host(signed_url)
    if 300 <= status < 400:
        advice = "it answered with a redirect, which is never followed for an upload"
    elif status in (401, 403):
        advice = "a refusal usually means the signed URL expired or was already used; the task asks for a new one"
    else:
        advice = "the storage service's answer follows"
    quoted = " ".join(text.split())
    raise RaiaStorageError(
        f"the storage service at {host} did not take {file.file_name!r} ({file.source}): HTTP {status}; {advice}"
        + (f": {quoted}" if quoted else "."),
        status_code=status,
        host=host,
    )


def _timeout(file: FilePart, signed_url: str, limits: WireLimits, cause: Any) -> RaiaTimeoutError:
    return RaiaTimeoutError(
        f"uploading {file.file_name!r} to the storage service at {storage_host(signed_url)} timed out "
        f"({type(cause).__name__}; connect {limits.connect:g} s, read {limits.read:g} s)."
    )


def _no_answer(file: FilePart, signed_url: str, cause: BaseException) -> RaiaConnectionError:
    # The library's text names the URL, signature included: only its type is kept.
    return RaiaConnectionError(
        f"uploading {file.file_name!r} got no answer from the storage service at {storage_host(signed_url)} "
        f"({type(cause).__name__})."
    )


def _unreadable(file: FilePart, cause: OSError) -> RaiaInputError:
    return RaiaInputError(f"{file.source!r} could not be read while uploading it: {type(cause).__name__}: {cause}")
