"""Turn an operation declaration into a hook method, sync or async, without writing a method body.

``process_prompt = Endpoint(ProcessPrompt)`` on the hook gives ``hook.process_prompt(prompt=...)``, whose
keyword arguments are the declaration's fields (type-checked by mypy's pydantic plugin) and whose return
type is the declaration's response type. Arguments are validated before any request is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from raia_provider._core.operation import RaiaRequest

P = ParamSpec("P")
R = TypeVar("R")


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
