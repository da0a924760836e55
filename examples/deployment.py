"""The app of the deployment guide (docs/deployment.md), as gunicorn loads it.

    gunicorn --config docs/deployment/gunicorn.conf.py examples.deployment:create_app

``/healthz`` answers while the process serves (liveness); ``/readyz`` only
once start-up is done and until shutdown begins (readiness). The end-to-end
tests (tests/e2e) serve it behind nginx, with their own routes added.
"""

from __future__ import annotations

import os

from weft import web

#: The largest request body the app reads. nginx's ``client_max_body_size``
#: is rendered from it (docs/deployment/nginx-weft.conf.template), so both
#: refuse the same uploads and nginx does so before they reach a worker.
CLIENT_MAX_SIZE = 16 * 1024 * 1024


class Readiness:
    """Whether this worker should be sent traffic (a mutable object: the app is frozen)."""

    def __init__(self) -> None:
        self.ready = False


READINESS = web.AppKey("readiness", Readiness)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    if request.app[READINESS].ready:
        return web.Response(text="ready\n")
    return web.Response(status=503, text="not ready\n")


async def _ready(app: web.Application) -> None:
    # Open database pools, warm caches... before this line: on_startup runs
    # before the worker accepts, and readiness says when all of it is done.
    app[READINESS].ready = True


async def _not_ready(app: web.Application) -> None:
    app[READINESS].ready = False


def build_app() -> web.Application:
    # nginx reaches the app on a unix socket, and is the only one that can:
    # the X-Forwarded-* headers of such a connection are believed, any other
    # peer's are ignored. request.remote, .scheme, .host (and .url, .secure)
    # are then the client's. Behind a TCP upstream, name nginx's address
    # instead: WEFT_TRUSTED_PROXIES=127.0.0.1 (or the balancer's network).
    trusted = os.environ.get("WEFT_TRUSTED_PROXIES", "unix").split(",")
    app = web.Application(
        client_max_size=CLIENT_MAX_SIZE,
        middlewares=[web.trusted_proxies_middleware(trusted)],
    )
    app[READINESS] = Readiness()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.on_startup.append(_ready)
    app.on_shutdown.append(_not_ready)
    return app


async def create_app() -> web.Application:
    """gunicorn's target: an async factory, so each worker builds its own app."""
    return build_app()
