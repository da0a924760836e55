"""weft.worker: gunicorn workers under aiohttp's path (``aiohttp.worker``).

``gunicorn -k weft.worker.GunicornWebWorker module:app``. Re-exports only;
the workers live in weft.web_runner.worker (gunicorn is an optional extra:
``pip install weft-web-runner[gunicorn]``).
"""

from __future__ import annotations

from weft.web_runner.worker import GunicornUVLoopWebWorker, GunicornWebWorker

__all__ = ["GunicornUVLoopWebWorker", "GunicornWebWorker"]
