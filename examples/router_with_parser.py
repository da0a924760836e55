"""A minimal HTTP/1.1 server built only on weft-http-parser and weft-web-routing.

No weft.web, no aiohttp: the parser turns bytes into request heads, the
router's synchronous ``match(method, path)`` picks a plain-function handler,
and the response head is serialised by the parser package.  Run it with
``python examples/router_with_parser.py`` and try ``curl localhost:8080/users/7``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from weft.http_parser import (
    EndOfMessage,
    HttpParserError,
    RequestHead,
    RequestParser,
    serialize_response_head,
)
from weft.web_routing import UrlDispatcher, UrlMappingMatchInfo

# A handler is a plain function: (head, match info) -> (status, content type, body).
Result = tuple[int, str, bytes]
PlainHandler = Callable[[RequestHead, UrlMappingMatchInfo], Result]


def index(head: RequestHead, info: UrlMappingMatchInfo) -> Result:
    return 200, "text/plain; charset=utf-8", b"router + parser\n"


def get_user(head: RequestHead, info: UrlMappingMatchInfo) -> Result:
    body = json.dumps({"id": int(info["id"]), "query": head.query_string}).encode()
    return 200, "application/json", body


def get_file(head: RequestHead, info: UrlMappingMatchInfo) -> Result:
    return 200, "text/plain; charset=utf-8", f"file {info['path']}\n".encode()


async def _unused(request: object) -> None:  # the router wants async callables
    raise NotImplementedError


def build_router() -> tuple[UrlDispatcher, dict[object, PlainHandler]]:
    """Routes map to plain functions through a side table keyed by route."""
    router = UrlDispatcher()
    handlers: dict[object, PlainHandler] = {}
    for method, path, func in [
        ("GET", "/", index),
        ("GET", r"/users/{id:\d+}", get_user),
        ("GET", "/files/{path:.+}", get_file),
    ]:
        route = router.add_route(method, path, _unused)
        handlers[route] = func
    router.freeze()
    return router, handlers


ROUTER, HANDLERS = build_router()


def respond(head: RequestHead) -> bytes:
    """The whole response (head and body) for one request."""
    info = ROUTER.match(head.method, head.path)
    exc = info.http_exception
    headers: list[tuple[str, str]] = []
    if exc is not None:
        status, content_type = exc.status, "text/plain; charset=utf-8"
        payload = (exc.text or "").encode()
        headers.extend((name, value) for name, value in exc.headers.items() if name == "Allow")
    else:
        status, content_type, payload = HANDLERS[info.route](head, info)
    headers += [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
    if head.should_close:
        headers.append(("Connection", "close"))
    if head.method == "HEAD":
        payload = b""
    return serialize_response_head(status, None, headers, head.version) + payload


async def handle_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    parser = RequestParser()
    current: RequestHead | None = None
    try:
        while True:
            data = await reader.read(65536)
            try:
                events = parser.feed(data) if data else parser.feed_eof()
            except HttpParserError as error:
                message = f"{error.status} {error.reason}\n".encode()
                writer.write(
                    serialize_response_head(
                        error.status,
                        None,
                        [("Content-Length", str(len(message))), ("Connection", "close")],
                    )
                    + message
                )
                break
            close = False
            for event in events:
                if isinstance(event, RequestHead):
                    current = event
                elif isinstance(event, EndOfMessage) and current is not None:
                    writer.write(respond(current))
                    close = current.should_close
                    current = None
                    if close:
                        break
            await writer.drain()
            if close or not data:
                break
    finally:
        writer.close()


async def serve(host: str = "127.0.0.1", port: int = 8080) -> asyncio.Server:
    """Start listening (``port=0`` for a free one); the caller closes the server."""
    return await asyncio.start_server(handle_connection, host, port)


async def main() -> None:
    server = await serve()
    print("listening on http://127.0.0.1:8080")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
