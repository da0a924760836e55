"""gunicorn's configuration for a weft app behind nginx (docs/deployment.md).

    gunicorn --config /etc/weft/gunicorn.conf.py myapp:create_app

tests/e2e runs gunicorn with this very file. Everything that differs between
machines comes from the environment, so one file serves the systemd unit,
the container image and the tests.
"""

from __future__ import annotations

import os

# systemd's RuntimeDirectory=weft sets RUNTIME_DIRECTORY=/run/weft: the socket
# nginx connects to lives there, and gunicorn's control socket beside it (so
# `gunicornc -s /run/weft/gunicorn.ctl` reaches this master, and two masters
# on one machine never share $HOME/.gunicorn/gunicorn.ctl).
_runtime = os.environ.get("RUNTIME_DIRECTORY", "/run/weft")

# A unix socket: no port to allocate, nothing else on the machine can reach
# it, and its permissions say who may connect. WEFT_BIND replaces it (a
# container publishes 0.0.0.0:8000; several binds are separated by commas).
bind = os.environ.get("WEFT_BIND", f"unix:{_runtime}/weft.sock").split(",")
control_socket = f"{_runtime}/gunicorn.ctl"
# The socket is created group-writable only: nginx's user (www-data) is put in
# the service's group, nobody else can connect.
umask = 0o007

# An asyncio worker serves any number of connections on one core, so one
# worker per core; WEB_CONCURRENCY (gunicorn's own variable) overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 1)))
# uvloop's event loop (weft-web-runner[gunicorn,uvloop]); the plain asyncio
# worker is weft.web_runner.worker.GunicornWebWorker.
worker_class = "weft.web_runner.worker.GunicornUVLoopWebWorker"

# Seconds a stopping worker gives its requests in flight: weft's worker uses
# 95 % of it as the app's shutdown_timeout, then cancels what is left; the
# rest is for on_cleanup before the master kills the worker. The stop timeout
# of whatever stops gunicorn (systemd's TimeoutStopSec, Kubernetes'
# terminationGracePeriodSeconds, docker stop -t) must be longer.
graceful_timeout = int(os.environ.get("WEFT_GRACEFUL_TIMEOUT", "30"))

# The app's keep-alive timeout, longer than nginx's upstream keepalive_timeout
# (60 s) so that nginx, not the app, closes an idle upstream connection.
keepalive = 75

# A worker that does not report for this long is killed and replaced. weft's
# worker reports every second from its event loop, so this fires only when a
# handler blocks the loop.
timeout = 30

# Access log to stderr (journald, the container's log), in weft's format.
accesslog = "-"
errorlog = "-"
# Through nginx the peer is a unix socket: the client is in X-Forwarded-For.
access_log_format = '%{X-Forwarded-For}i %t "%r" %s %b "%{Referer}i" "%{User-Agent}i" %Tf'
