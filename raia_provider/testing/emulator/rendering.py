"""How raia renders response fields, shared by every resource's DTOs.

* optional fields a record does not have are **omitted**, never ``null``, unless the spec marks them nullable
  (it marks almost none): NestJS would send ``null`` from an empty column, but the spec says the type is a
  plain string, and a client should cope with absence either way (**inferred**);
* times are ISO 8601 UTC with milliseconds and ``Z`` (``2026-01-01T00:00:00.000Z``), what NestJS renders for
  a ``Date``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

JsonObject = dict[str, Any]


def iso(moment: float) -> str:
    """Render epoch seconds like a NestJS ``Date``: ``2026-01-01T00:00:00.000Z``.

    :param moment: epoch seconds.
    """
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(moment * 1000) % 1000:03d}Z"


def present(**fields: Any) -> JsonObject:
    """The fields that have a value (``None`` ones omitted), to splice into a DTO.

    :param fields: DTO fields by their raia names.
    """
    return {name: value for name, value in fields.items() if value is not None}
