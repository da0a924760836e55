"""Signal: a list of async callbacks, frozen with its application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableSequence
from typing import Any, Generic, TypeVar, overload

__all__ = ["Signal"]

_C = TypeVar("_C", bound=Callable[..., Awaitable[Any]])


class Signal(MutableSequence[_C], Generic[_C]):
    """Callbacks run in order by ``send``; changing a frozen signal raises RuntimeError."""

    __slots__ = ("_callbacks", "_frozen", "_owner")

    def __init__(self, owner: object, callbacks: Iterable[_C] = ()) -> None:
        self._owner = owner
        self._callbacks: list[_C] = list(callbacks)
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError(f"Cannot modify a frozen signal of {self._owner!r}")

    async def send(self, *args: Any, **kwargs: Any) -> None:
        """Await every callback in registration order."""
        if not self._frozen:
            raise RuntimeError("Cannot send a signal that is not frozen")
        for callback in self._callbacks:
            await callback(*args, **kwargs)

    @overload
    def __getitem__(self, index: int) -> _C: ...
    @overload
    def __getitem__(self, index: slice) -> MutableSequence[_C]: ...
    def __getitem__(self, index: int | slice) -> _C | MutableSequence[_C]:
        return self._callbacks[index]

    @overload
    def __setitem__(self, index: int, value: _C) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[_C]) -> None: ...
    def __setitem__(self, index: int | slice, value: Any) -> None:
        self._check()
        self._callbacks[index] = value

    def __delitem__(self, index: int | slice) -> None:
        self._check()
        del self._callbacks[index]

    def __len__(self) -> int:
        return len(self._callbacks)

    def __iter__(self) -> Iterator[_C]:
        return iter(self._callbacks)

    def insert(self, index: int, value: _C) -> None:
        self._check()
        self._callbacks.insert(index, value)

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {self._callbacks!r}>"
