"""Request bodies that stream a file from disk or object storage: ``multipart/form-data`` for raia's own
file uploads, and the bare file (:class:`FileBody`) for a signed storage URL.

``requests`` builds multipart bodies in memory, which a 1 GiB knowledge file must never be. This body is
a fixed preamble, the file read in chunks, and a fixed epilogue; its length is known up front so it is sent
with ``Content-Length`` (no chunked encoding). ``reader()`` serves the blocking transport (a file-like
object ``http.client`` reads block by block); ``aiter()`` serves aiohttp, reading the file in a worker thread
so the event loop never blocks on disk. Each call opens the file anew, so a retried upload starts over.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class FilePart:
    """A file to upload, opened only when the request is sent.

    :param file_name: the name raia stores the file under.
    :param content_type: its MIME type.
    :param size: its size in bytes (known before sending, for ``Content-Length``).
    :param open: opens the file for binary reading; called once per attempt.
    :param source: where the file comes from, for messages (a path or URL; never its content).
    """

    file_name: str
    content_type: str
    size: int
    open: Callable[[], IO[bytes]]
    source: str


class _StreamedBody:
    """A fixed preamble, the file read in chunks, a fixed epilogue; its exact length known up front.

    :param file: the file to stream.
    :param preamble: bytes sent before the file.
    :param epilogue: bytes sent after it.
    :param content_type: the body's ``Content-Type``.
    """

    def __init__(self, file: FilePart, *, preamble: bytes, epilogue: bytes, content_type: str) -> None:
        self.file = file
        self._preamble = preamble
        self._epilogue = epilogue
        self.content_type = content_type

    def __len__(self) -> int:
        return len(self._preamble) + self.file.size + len(self._epilogue)

    def headers(self) -> dict[str, str]:
        """The headers this body needs: its content type and exact length."""
        return {"Content-Type": self.content_type, "Content-Length": str(len(self))}

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the body piece by piece, opening the file now."""
        yield self._preamble
        with self.file.open() as handle:
            while chunk := handle.read(chunk_size):
                yield chunk
        yield self._epilogue

    async def aiter(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Yield the body piece by piece without blocking the event loop on file reads."""
        yield self._preamble
        handle = await asyncio.to_thread(self.file.open)
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)
        yield self._epilogue

    def reader(self) -> _BodyReader:
        """A file-like view for ``requests``: it streams objects that have ``read`` and a length."""
        return _BodyReader(self)


class MultipartBody(_StreamedBody):
    """One file field plus text fields, as ``multipart/form-data``.

    :param fields: text fields (name to value), sent before the file.
    :param field_name: the form field that carries the file (raia: ``file``).
    :param file: the file to stream.
    """

    def __init__(self, fields: Mapping[str, str], *, field_name: str, file: FilePart) -> None:
        boundary = secrets.token_hex(16)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        ]
        parts.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quote(field_name)}"; filename="{_quote(file.file_name)}"\r\n'
                f"Content-Type: {file.content_type}\r\n\r\n"
            ).encode()
        )
        super().__init__(
            file,
            preamble=b"".join(parts),
            epilogue=f"\r\n--{boundary}--\r\n".encode(),
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        self.boundary = boundary


class FileBody(_StreamedBody):
    """The file's bytes alone, under its own content type: the body of a ``PUT`` to a signed storage URL.

    :param file: the file to stream.
    """

    def __init__(self, file: FilePart) -> None:
        super().__init__(file, preamble=b"", epilogue=b"", content_type=file.content_type)


class _BodyReader:
    """Adapts :meth:`_StreamedBody.chunks` to ``read(n)``, the interface ``http.client`` streams from."""

    def __init__(self, body: _StreamedBody) -> None:
        self._length = len(body)
        self._chunks = body.chunks()
        self._current = b""
        self._offset = 0

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        # requests treats a body with __iter__ (and a length) as a stream to send, not a form to encode.
        while chunk := self.read(CHUNK_SIZE):
            yield chunk

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes (everything left if ``size`` is negative); ``b""`` at the end."""
        if size < 0:
            rest = [self._current[self._offset :], *self._chunks]
            self._current, self._offset = b"", 0
            return b"".join(rest)
        # Slice only what is asked for: re-buffering a 1 MiB chunk per 8 KiB read would copy it 128 times.
        while self._offset >= len(self._current):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._current, self._offset = chunk, 0
        data = self._current[self._offset : self._offset + size]
        self._offset += len(data)
        return data


def _quote(value: str) -> str:
    # The WHATWG form-data encoding: escape what would end the quoted string or the header line.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
