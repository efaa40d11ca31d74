"""Pages of raia's list operations: the query (``page``, ``pageSize``, ``orderBy``, ``orderDirection``) read
once, the envelope built once.

Pages are numbered from 1 (default 1); ``pageSize`` defaults to 10 and is at most 100; the order defaults to
``DESC`` (newest first) — all **inferred**, raia documents none of them. ``totalPages`` is 0 for an empty
result (**inferred**); a page past the end has empty ``data``. Bad values are 400s (see :mod:`.query`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from raia_provider.testing.emulator.contract import MAX_PAGE_SIZE
from raia_provider.testing.emulator.query import QueryCheck
from raia_provider.testing.emulator.rendering import JsonObject

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 10
ORDER_DIRECTIONS = ("ASC", "DESC")


@dataclass(frozen=True)
class PageRequest:
    """One page asked for, with its order.

    :param number: the page number, from 1.
    :param size: items per page.
    :param order_by: the field to order by (one of the operation's ``orderBy`` values).
    :param descending: newest (largest) first.
    """

    number: int
    size: int
    order_by: str
    descending: bool

    def render(self, items: Iterable[T], key: Callable[[T], Any], render: Callable[[T], JsonObject]) -> JsonObject:
        """The pagination envelope of this page of ``items``, ordered by ``key``.

        :param items: every item, already filtered.
        :param key: the sort key of an item (for :attr:`order_by`).
        :param render: renders one item.
        """
        ordered = sorted(items, key=key, reverse=self.descending)
        total = len(ordered)
        pages = math.ceil(total / self.size)
        chunk = ordered[(self.number - 1) * self.size : self.number * self.size]
        return {
            "currentPage": self.number,
            "pageSize": self.size,
            "totalItems": total,
            "totalPages": pages,
            "hasNextPage": self.number < pages,
            "hasPreviousPage": self.number > 1,
            "data": [render(item) for item in chunk],
        }


def read_page(
    check: QueryCheck,
    *,
    page: str | None,
    page_size: str | None,
    order_by: str | None,
    order_direction: str | None,
    order_by_values: tuple[str, ...],
) -> PageRequest:
    """Read the paging parameters (bad ones are collected in ``check``).

    :param check: the operation's query check.
    :param page: ``page``, as sent.
    :param page_size: ``pageSize``, as sent.
    :param order_by: ``orderBy``, as sent.
    :param order_direction: ``orderDirection``, as sent.
    :param order_by_values: the operation's ``orderBy`` values; the first is the default.
    """
    return PageRequest(
        number=check.integer("page", page, default=1),
        size=check.integer("pageSize", page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE),
        order_by=check.enum("orderBy", order_by, order_by_values, order_by_values[0]),
        descending=check.enum("orderDirection", order_direction, ORDER_DIRECTIONS, "DESC") == "DESC",
    )
