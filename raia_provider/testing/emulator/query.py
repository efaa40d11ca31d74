"""Query parameters, checked like raia's NestJS app: bad values are collected, then answered as one 400.

Integers are >= 1 (and at most a maximum), booleans ``true``/``false`` only, dates ISO 8601 (naive ones are
UTC), ids said to be UUIDs canonical UUIDs, enums exactly as in the spec.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from raia_provider.testing.emulator.body_fields import is_uuid
from raia_provider.testing.emulator.validation import detail, refuse


class QueryCheck:
    """Parse query parameters, collecting class-validator details; :meth:`done` raises the 400."""

    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def integer(self, name: str, raw: str | None, *, default: int, maximum: int | None = None) -> int:
        """An integer >= 1 (and <= ``maximum``).

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        :param default: the value when absent.
        :param maximum: the largest accepted value.
        """
        if raw is None:
            return default
        if re.fullmatch(r"[+]?[0-9]+", raw.strip()) is None:
            self.details.append(detail(name, "isInt", f"{name} must be an integer number"))
            return default
        value = int(raw)
        if value < 1:
            self.details.append(detail(name, "min", f"{name} must not be less than 1"))
        elif maximum is not None and value > maximum:
            self.details.append(detail(name, "max", f"{name} must not be greater than {maximum}"))
        return value

    def boolean(self, name: str, raw: str | None) -> bool:
        """``true`` or ``false`` (absent: false).

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        """
        if raw is None:
            return False
        if raw not in ("true", "false"):
            self.details.append(detail(name, "isBoolean", f"{name} must be a boolean value"))
        return raw == "true"

    def enum(self, name: str, raw: str | None, values: tuple[str, ...], default: str) -> str:
        """One of ``values``.

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        :param values: accepted values.
        :param default: the value when absent.
        """
        if raw is None:
            return default
        if raw not in values:
            self.details.append(
                detail(name, "isEnum", f"{name} must be one of the following values: {', '.join(values)}")
            )
            return default
        return raw

    def date(self, name: str, raw: str | None) -> float | None:
        """An ISO 8601 date-time (naive ones are UTC), as epoch seconds.

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        """
        if raw is None:
            return None
        try:
            moment = datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            self.details.append(detail(name, "isDateString", f"{name} must be a valid ISO 8601 date string"))
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()

    def uuid(self, name: str, raw: str | None) -> str | None:
        """A UUID.

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        """
        if raw is None:
            return None
        if not is_uuid(raw):
            self.details.append(detail(name, "isUuid", f"{name} must be a UUID"))
        return raw

    def done(self) -> None:
        """Raise the 400 if any parameter was bad.

        :raises RaiaError: 400 with the collected details.
        """
        refuse(self.details)
