"""raia's page envelope, shared by every paginated list (conversations, conversation users)."""

from __future__ import annotations

from typing import Generic, TypeVar

from raia_provider.models.base import RaiaModel

ItemT = TypeVar("ItemT")


class Page(RaiaModel, Generic[ItemT]):
    """One page of a list (spec: ``GetConversationWithFeedbacksResponseDTO``,
    ``GetOrganizationAgentUsersResponseDTO``). Pages are numbered from 1.

    :param current_page: this page's number.
    :param page_size: items per page.
    :param total_items: items in the whole list.
    :param total_pages: pages in the whole list.
    :param has_next_page: whether another page follows.
    :param has_previous_page: whether a page precedes.
    :param data: this page's items.
    """

    current_page: int
    page_size: int
    total_items: int
    total_pages: int
    has_next_page: bool
    has_previous_page: bool
    data: list[ItemT]
