"""The container the docker stand-in hands out: a server the session started, which it
also stops (kill and remove do nothing here)."""

from __future__ import annotations


class Container:
    def __init__(self, service: str, host: str) -> None:
        self.id = service
        self.host = host

    def kill(self, signal: int | str | None = None) -> None:
        pass

    def remove(self, force: bool = False) -> None:
        pass
