"""Signal: a list of async callbacks, frozen with its application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, SupportsIndex, TypeVar

__all__ = ["Signal"]

_C = TypeVar("_C", bound=Callable[..., Awaitable[Any]])


class Signal(list[_C], Generic[_C]):
    """Callbacks run in order by ``send``; changing a frozen signal raises RuntimeError."""

    def __init__(self, owner: object) -> None:
        super().__init__()
        self._owner = owner
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
        for callback in self:
            await callback(*args, **kwargs)

    def append(self, callback: _C) -> None:
        self._check()
        super().append(callback)

    def insert(self, index: SupportsIndex, callback: _C) -> None:
        self._check()
        super().insert(index, callback)

    def extend(self, callbacks: Iterable[_C]) -> None:
        self._check()
        super().extend(callbacks)

    def pop(self, index: SupportsIndex = -1) -> _C:
        self._check()
        return super().pop(index)

    def remove(self, callback: _C) -> None:
        self._check()
        super().remove(callback)

    def clear(self) -> None:
        self._check()
        super().clear()

    def __iadd__(self, callbacks: Any) -> Signal[_C]:
        self._check()
        return super().__iadd__(callbacks)  # type: ignore[return-value]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check()
        super().__setitem__(index, value)

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        self._check()
        super().__delitem__(index)

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {list(self)!r}>"
