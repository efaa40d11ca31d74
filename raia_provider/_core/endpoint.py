"""Turn an operation declaration into a hook method, sync or async, without writing a method body.

``process_prompt = Endpoint(ProcessPrompt)`` on the hook gives ``hook.process_prompt(prompt=...)``, whose
keyword arguments are the declaration's fields (type-checked by mypy's pydantic plugin) and whose return
type is the declaration's response type. Arguments are validated before any request is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from raia_provider._core.operation import RaiaRequest
from raia_provider.models.pagination import Page

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class Sender(Protocol):
    """What an :class:`Endpoint` needs from its owner."""

    def send(self, request: RaiaRequest[R]) -> R:
        """Send ``request`` and return its typed answer."""
        ...


class AsyncSender(Protocol):
    """What an :class:`AsyncEndpoint` needs from its owner."""

    async def asend(self, request: RaiaRequest[R]) -> R:
        """Send ``request`` and return its typed answer."""
        ...


class _EndpointBase(Generic[P, R]):
    def __init__(self, declaration: Callable[P, RaiaRequest[R]]) -> None:
        self.declaration: type[RaiaRequest[R]] = declaration  # type: ignore[assignment]
        self.name = ""
        self.__doc__ = self._doc()

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _doc(self) -> str:
        op = self.declaration.operation
        return f"{(self.declaration.__doc__ or '').strip()}\n\nraia operation: ``{op.label}``."

    def _build(self, arguments: dict[str, Any]) -> RaiaRequest[R]:
        return self.declaration.build(**arguments)


class Endpoint(_EndpointBase[P, R]):
    """A blocking hook method sending one declared operation.

    :param declaration: the :class:`~raia_provider._core.operation.RaiaRequest` subclass to send.
    """

    @overload
    def __get__(self, owner: None, owner_type: type | None = None) -> Self: ...

    @overload
    def __get__(self, owner: Sender, owner_type: type | None = None) -> Callable[P, R]: ...

    def __get__(self, owner: Sender | None, owner_type: type | None = None) -> Self | Callable[P, R]:
        if owner is None:
            return self

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{self.name}() takes keyword arguments only")
            return owner.send(self._build(kwargs))

        call.__name__ = call.__qualname__ = self.name
        call.__doc__ = self.__doc__
        return call


class AsyncEndpoint(_EndpointBase[P, R]):
    """A coroutine hook method sending one declared operation, for triggers.

    :param declaration: the :class:`~raia_provider._core.operation.RaiaRequest` subclass to send.
    """

    @overload
    def __get__(self, owner: None, owner_type: type | None = None) -> Self: ...

    @overload
    def __get__(self, owner: AsyncSender, owner_type: type | None = None) -> Callable[P, Awaitable[R]]: ...

    def __get__(self, owner: AsyncSender | None, owner_type: type | None = None) -> Self | Callable[P, Awaitable[R]]:
        if owner is None:
            return self

        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{self.name}() takes keyword arguments only")
            return await owner.asend(self._build(kwargs))

        call.__name__ = call.__qualname__ = self.name
        call.__doc__ = self.__doc__
        return call


class PagedEndpoint(Generic[P, T]):
    """A blocking hook method that walks every page of a paginated list and yields its items.

    Arguments are those of the declaration; ``page`` (default 1) is where the walk starts. They are
    validated when the method is called, before any request, not when iteration begins.

    :param declaration: a :class:`~raia_provider._core.operation.RaiaRequest` whose response is a ``Page``.
    """

    def __init__(self, declaration: Callable[P, RaiaRequest[Page[T]]]) -> None:
        self.declaration: type[RaiaRequest[Page[T]]] = declaration  # type: ignore[assignment]
        self.name = ""
        self.__doc__ = f"Yield every item of ``{self.declaration.operation.label}``, page after page."

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, owner: None, owner_type: type | None = None) -> Self: ...

    @overload
    def __get__(self, owner: Sender, owner_type: type | None = None) -> Callable[P, Iterator[T]]: ...

    def __get__(self, owner: Sender | None, owner_type: type | None = None) -> Self | Callable[P, Iterator[T]]:
        if owner is None:
            return self

        def call(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            if args:
                raise TypeError(f"{self.name}() takes keyword arguments only")
            first = self.declaration.build(**{**kwargs, "page": kwargs.get("page") or 1})
            return _walk(first, owner.send)

        call.__name__ = call.__qualname__ = self.name
        call.__doc__ = self.__doc__
        return call


class AsyncPagedEndpoint(PagedEndpoint[P, T]):
    """The async twin of :class:`PagedEndpoint`: an async iterator over every item of every page."""

    @overload  # type: ignore[override]
    def __get__(self, owner: None, owner_type: type | None = None) -> Self: ...

    @overload
    def __get__(self, owner: AsyncSender, owner_type: type | None = None) -> Callable[P, AsyncIterator[T]]: ...

    def __get__(
        self, owner: AsyncSender | None, owner_type: type | None = None
    ) -> Self | Callable[P, AsyncIterator[T]]:
        if owner is None:
            return self

        def call(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
            if args:
                raise TypeError(f"{self.name}() takes keyword arguments only")
            first = self.declaration.build(**{**kwargs, "page": kwargs.get("page") or 1})
            return _awalk(first, owner.asend)

        call.__name__ = call.__qualname__ = self.name
        call.__doc__ = self.__doc__
        return call


def _next_page(request: RaiaRequest[Page[T]], page: Page[T]) -> RaiaRequest[Page[T]] | None:
    """The request for the page after ``page``, or ``None`` at the end.

    Stops on ``hasNextPage: false``, on an empty page and past ``totalPages``, so that a server that
    keeps saying "more" cannot make the walk endless.
    """
    if not page.has_next_page or not page.data or page.current_page >= page.total_pages:
        return None
    return request.model_copy(update={"page": page.current_page + 1})


def _walk(request: RaiaRequest[Page[T]], send: Callable[[RaiaRequest[Page[T]]], Page[T]]) -> Iterator[T]:
    current: RaiaRequest[Page[T]] | None = request
    while current is not None:
        page = send(current)
        yield from page.data
        current = _next_page(current, page)


async def _awalk(
    request: RaiaRequest[Page[T]], send: Callable[[RaiaRequest[Page[T]]], Awaitable[Page[T]]]
) -> AsyncIterator[T]:
    current: RaiaRequest[Page[T]] | None = request
    while current is not None:
        page = await send(current)
        for item in page.data:
            yield item
        current = _next_page(current, page)
