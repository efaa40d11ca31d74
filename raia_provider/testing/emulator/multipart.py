"""Streaming digest of ``multipart/form-data`` bodies: sizes and SHA-256 of the files, never their bytes.

raia's only multipart operation is the agent-file upload, and agent files can be large. The emulator never
holds an upload in memory nor spools it to disk: :class:`MultipartDigest` is fed the body chunk by chunk as it
arrives (by :class:`MultipartTap`, which wraps the ASGI ``receive``), hashes and counts each file part, and
keeps only

* per file part: form field name, file name, content type, size and SHA-256;
* per plain field: its value, cut to :data:`MAX_FIELD_CHARS` characters (a form field is a flag or an id,
  never a document).

The same digest serves the request log (which records the summary, not the bytes) and the upload route
(which reads the file's name, size and hash from it), so the body is parsed once. The parser is
``python-multipart``, which Airflow installs (FastAPI's ``standard`` extra). Its ``MultipartParser`` is a
push parser that keeps no part data itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELD_CHARS = 4096
"""Plain form field values are cut to this many characters."""

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


@dataclass(frozen=True)
class FilePart:
    """A file part of a multipart body, without its bytes.

    :param field: the form field name (``file`` for raia's upload).
    :param file_name: the part's ``filename`` (may be empty).
    :param content_type: the part's ``Content-Type`` (``application/octet-stream`` when absent).
    :param size: bytes in the part.
    :param sha256: hex SHA-256 of those bytes.
    """

    field: str
    file_name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class MultipartSummary:
    """What is kept of a multipart body.

    :param fields: plain fields, first value per name, cut to :data:`MAX_FIELD_CHARS`.
    :param files: file parts in body order.
    :param size: bytes of the whole body received.
    :param complete: ``True`` once the closing boundary was parsed.
    :param error: why the body could not be parsed, ``None`` if it could.
    """

    fields: dict[str, str] = field(default_factory=dict)
    files: tuple[FilePart, ...] = ()
    size: int = 0
    complete: bool = False
    error: str | None = None

    def to_log(self) -> Any:
        """Render for the request log: fields and files, or a note when unparseable."""
        if self.error is not None:
            return f"<unparseable multipart body, {self.size} bytes: {self.error}>"
        return {
            "fields": dict(self.fields),
            "files": [
                {
                    "field": part.field,
                    "fileName": part.file_name,
                    "contentType": part.content_type,
                    "size": part.size,
                    "sha256": part.sha256,
                }
                for part in self.files
            ],
        }


class _Part:
    """The part being parsed."""

    def __init__(self) -> None:
        self.headers: dict[str, bytes] = {}
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.name = ""
        self.file_name: str | None = None
        self.content_type = "application/octet-stream"
        self.size = 0
        self.hash = hashlib.sha256()
        self.text = bytearray()


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


class MultipartDigest:
    """Push parser of one multipart body: :meth:`feed` chunks, then :meth:`finish`.

    :param content_type: the request's ``Content-Type`` header value.
    """

    def __init__(self, content_type: str) -> None:
        self._fields: dict[str, str] = {}
        self._files: list[FilePart] = []
        self._size = 0
        self._complete = False
        self._error: str | None = None
        self._part: _Part | None = None
        self._parser: MultipartParser | None = None
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary:
            self._error = "no boundary in Content-Type"
            return
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        """Parse the next chunk of the body.

        :param chunk: bytes as received.
        """
        self._size += len(chunk)
        if self._parser is None or self._error is not None or not chunk:
            return
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            self._error = str(error) or type(error).__name__

    def finish(self) -> MultipartSummary:
        """Return the summary of everything fed so far."""
        error = self._error
        if error is None and not self._complete:
            error = "body ended before the closing boundary"
        return MultipartSummary(
            fields=dict(self._fields),
            files=tuple(self._files),
            size=self._size,
            complete=self._complete,
            error=error,
        )

    # -- parser callbacks --------------------------------------------------------------------------------

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        if self._part is not None:
            self._part.header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        if self._part is not None:
            self._part.header_value += data[start:end]

    def _on_header_end(self) -> None:
        part = self._part
        if part is not None:
            part.headers[_text(bytes(part.header_field)).lower()] = bytes(part.header_value)
            part.header_field.clear()
            part.header_value.clear()

    def _on_headers_finished(self) -> None:
        part = self._part
        if part is None:
            return
        # Bytes in, bytes out: the parser round-trips them through latin-1, so UTF-8 names survive.
        _, params = parse_options_header(part.headers.get("content-disposition", b""))
        part.name = _text(params.get(b"name", b""))
        if b"filename" in params:
            part.file_name = _text(params[b"filename"])
        content_type = _text(part.headers.get("content-type", b"")).strip()
        if content_type:
            part.content_type = content_type

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part is None:
            return
        chunk = memoryview(data)[start:end]
        if part.file_name is not None:
            part.hash.update(chunk)
            part.size += len(chunk)
        elif len(part.text) < MAX_FIELD_CHARS * 4:  # UTF-8: at most 4 bytes a character
            part.text += chunk[: MAX_FIELD_CHARS * 4 - len(part.text)]

    def _on_part_end(self) -> None:
        part, self._part = self._part, None
        if part is None:
            return
        if part.file_name is not None:
            self._files.append(
                FilePart(
                    field=part.name,
                    file_name=part.file_name,
                    content_type=part.content_type,
                    size=part.size,
                    sha256=part.hash.hexdigest(),
                )
            )
        else:
            self._fields.setdefault(part.name, _text(bytes(part.text))[:MAX_FIELD_CHARS])

    def _on_end(self) -> None:
        self._complete = True


class MultipartTap:
    """Wrap an ASGI ``receive`` so every body chunk passing through is fed to a :class:`MultipartDigest`.

    Whoever reads the body (the upload route, or :meth:`drain` before an early answer) drives the parse;
    ``on_done`` gets the summary once, when the body ends or the client disconnects.

    :param content_type: the request's ``Content-Type``.
    :param receive: the ASGI ``receive`` to wrap.
    :param on_done: called with the summary when the body is complete (or cut short).
    """

    def __init__(
        self, content_type: str, receive: Receive, on_done: Callable[[MultipartSummary], None] | None = None
    ) -> None:
        self._digest = MultipartDigest(content_type)
        self._receive = receive
        self._on_done = on_done
        self._summary: MultipartSummary | None = None

    @property
    def done(self) -> bool:
        """Whether the body has ended (or the client went away)."""
        return self._summary is not None

    async def receive(self) -> Message:
        """The wrapped ``receive``: pass each message on, feeding body chunks to the digest."""
        message = await self._receive()
        if self._summary is None:
            if message["type"] == "http.request":
                self._digest.feed(message.get("body", b""))
                if not message.get("more_body", False):
                    self._settle()
            elif message["type"] == "http.disconnect":
                self._settle()
        return message

    async def drain(self) -> MultipartSummary:
        """Read (and digest) the rest of the body; return the summary."""
        while self._summary is None:
            await self.receive()
        return self._summary

    def _settle(self) -> None:
        self._summary = self._digest.finish()
        if self._on_done is not None:
            self._on_done(self._summary)
