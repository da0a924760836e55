from . import containers

__all__ = ["containers"]
