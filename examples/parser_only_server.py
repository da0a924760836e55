"""A small HTTP/1.1 server built on weft-http-parser alone (no other weft package).

    python examples/parser_only_server.py [port]

``GET /any/path`` answers ``Hello, /any/path``; ``POST`` echoes the body
(up to 1 MB). Keep-alive and pipelining work (answers go out in request
order, since each is written when its request ends); a request the parser
refuses gets the status its error carries and the connection is closed.
"""

from __future__ import annotations

import asyncio
import sys

from weft.http_parser import (
    BodyChunk,
    EndOfMessage,
    HttpParserError,
    RequestHead,
    RequestParser,
    serialize_response_head,
)

MAX_BODY = 1_000_000


class ParserOnlyProtocol(asyncio.Protocol):
    """One connection: bytes in through the parser, answers out in order."""

    def __init__(self) -> None:
        self.parser = RequestParser(max_body_size=MAX_BODY)
        self.transport: asyncio.Transport | None = None
        self.head: RequestHead | None = None
        self.body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            events = self.parser.feed(data)
        except HttpParserError as exc:
            self.handle(exc.events)  # requests completed before the bad one
            self.refuse(exc)
            return
        self.handle(events)

    def eof_received(self) -> bool | None:
        try:
            self.parser.feed_eof()
        except HttpParserError as exc:
            self.refuse(exc)
        return None  # close our side too

    def handle(self, events: list[RequestHead | BodyChunk | EndOfMessage]) -> None:
        for event in events:
            if isinstance(event, RequestHead):
                self.head = event
                self.body.clear()
            elif isinstance(event, BodyChunk):
                self.body += event.data
            else:
                self.respond()

    def respond(self) -> None:
        head, transport = self.head, self.transport
        assert head is not None
        assert transport is not None
        echo = head.method == "POST"
        payload = bytes(self.body) if echo else f"Hello, {head.path}".encode()
        fields = [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))]
        if head.should_close:
            fields.append(("Connection", "close"))
        transport.write(serialize_response_head(200, None, fields, head.version) + payload)
        if head.should_close:
            transport.close()

    def refuse(self, exc: HttpParserError) -> None:
        transport = self.transport
        assert transport is not None
        text = f"{exc.status} {exc.reason}: {exc}\n".encode()
        fields = [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(text))),
            ("Connection", "close"),
        ]
        transport.write(serialize_response_head(exc.status, exc.reason, fields) + text)
        transport.close()


async def serve(host: str = "127.0.0.1", port: int = 8080) -> asyncio.Server:
    """Start listening; the caller owns the returned server."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(ParserOnlyProtocol, host, port)


async def main(port: int) -> None:
    server = await serve(port=port)
    print(f"listening on http://127.0.0.1:{port}")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080))
