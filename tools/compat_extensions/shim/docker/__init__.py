"""A stand-in for the docker SDK, for aiohttp-session's test suite.

Its conftest starts Redis and memcached as docker containers and connects to
the container's address on the default port. CI has no docker; the
compat-extensions session runs Debian's redis-server and memcached instead,
each on a random loopback address (127.x.y.z) where it alone answers, on the
default ports (the conftest fixes them), and names them here through
WEFT_COMPAT_REDIS_HOST / WEFT_COMPAT_MEMCACHED_HOST. An image with no server
behind it fails as a docker error would; run.py does not get that far
without both servers answering.
"""

from __future__ import annotations

import os
from typing import Any

from . import models

__all__ = ["DockerClient", "from_env", "models"]

_HOSTS = {"redis": "WEFT_COMPAT_REDIS_HOST", "memcached": "WEFT_COMPAT_MEMCACHED_HOST"}


class DockerException(Exception):
    pass


class _Containers:
    def run(self, image: str, **kwargs: Any) -> models.containers.Container:
        service = image.partition(":")[0]
        host = os.environ.get(_HOSTS.get(service, ""), "")
        if not host:
            raise DockerException(f"no {service} server for the image {image!r} in this run")
        return models.containers.Container(service, host)


class _Api:
    def inspect_container(self, container_id: str) -> dict[str, dict[str, str]]:
        host = os.environ[_HOSTS[container_id]]
        return {"NetworkSettings": {"IPAddress": host}}


class DockerClient:
    def __init__(self) -> None:
        self.containers = _Containers()
        self.api = _Api()

    def close(self) -> None:
        pass


def from_env(**kwargs: Any) -> DockerClient:
    return DockerClient()
