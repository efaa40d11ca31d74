"""Keyword arguments that ``RaiaEmulator`` and ``EmulatorClient`` share, declared once (as ``configure()``'s
are, in :class:`~..config.ConfigChanges`): each method takes them with ``**Unpack[...]``, so the two never
drift apart."""

from __future__ import annotations

from typing import TypedDict


class FaultRule(TypedDict, total=False):
    """What ``inject_fault(kind=..., **rule)`` takes besides ``kind``; left out, :class:`~..faults.Fault`'s
    default applies.

    * ``method``: HTTP method to match, ``"*"`` (default) for any;
    * ``path``: path pattern: exact, ``{param}`` template, trailing-``*`` prefix, or ``"*"`` (default);
    * ``count``: how many matching requests to hit (default 1);
    * ``status``: status code (``status`` faults; ``html`` defaults to 502);
    * ``retry_after``: ``Retry-After`` seconds for ``status`` faults (default ``None``: no header);
    * ``delay``: seconds to wait for ``slow`` faults (default 5);
    * ``after``: let this many matching requests through first (default 0).
    """

    method: str
    path: str
    count: int
    status: int | None
    retry_after: int | None
    delay: float
    after: int


class UserContacts(TypedDict, total=False):
    """The contacts ``seed_user(first_name, last_name, **contacts)`` takes, each ``None`` when left out:
    ``email``, ``phone_number``, ``fk_id`` (raia's ``fkId``) and ``fk_user_id`` (``fkUserId``)."""

    email: str | None
    phone_number: str | None
    fk_id: str | None
    fk_user_id: str | None
