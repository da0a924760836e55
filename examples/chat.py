"""A chat room over WebSockets: ``python -m weft.web examples.chat:create_app``.

``GET /`` serves a small page whose script opens a WebSocket to ``/ws``;
every message a browser sends is broadcast to every connected browser. Open
http://localhost:8080/?name=alice and http://localhost:8080/?name=bob side
by side. Written exactly as an aiohttp.web app would be.
"""

from __future__ import annotations

import asyncio
import html
import json
import weakref

from weft import web

# WSCloseCode is not an aiohttp.web name either (aiohttp has it at its top level).
from weft.web_core import WSCloseCode

CLIENTS = web.AppKey[weakref.WeakSet[web.WebSocketResponse]]("clients")

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>weft chat</title>
<style>
  body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }
  #log { list-style: none; padding: 0; min-height: 10em; border: 1px solid #ccc; }
  #log li { padding: .2em .5em; }
  #log li.event { color: #888; font-style: italic; }
</style>
</head>
<body>
<h1>weft chat</h1>
<p>You are <b id="me">%(name)s</b>. <span id="status">connecting…</span></p>
<ul id="log"></ul>
<form id="form"><input id="text" autocomplete="off" autofocus> <button>Send</button></form>
<script>
"use strict";
const name = document.getElementById("me").textContent;
const log = document.getElementById("log");
const input = document.getElementById("text");
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const ws = new WebSocket(`${scheme}//${location.host}/ws?name=${encodeURIComponent(name)}`);
window.chatReady = false;

function show(text, cls) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  log.appendChild(li);
}

ws.onopen = () => {
  document.getElementById("status").textContent = "connected";
  window.chatReady = true;
};
ws.onclose = () => {
  document.getElementById("status").textContent = "disconnected";
  window.chatReady = false;
};
ws.onmessage = (event) => {
  const msg = JSON.parse(event.data);
  if (msg.type === "message") show(`${msg.name}: ${msg.text}`);
  else if (msg.type === "join") show(`${msg.name} joined`, "event");
  else if (msg.type === "leave") show(`${msg.name} left`, "event");
};
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  if (input.value && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({text: input.value}));
    input.value = "";
  }
};
</script>
</body>
</html>
"""


async def index(request: web.Request) -> web.Response:
    name = request.query.get("name") or f"guest-{id(request) % 1000}"
    return web.Response(text=PAGE % {"name": html.escape(name[:40])}, content_type="text/html")


async def broadcast(app: web.Application, message: dict[str, str]) -> None:
    """Send ``message`` to every open WebSocket at once; a client that left is skipped."""
    data = json.dumps(message)
    clients = [ws for ws in app[CLIENTS] if not ws.closed]
    await asyncio.gather(*(ws.send_str(data) for ws in clients), return_exceptions=True)


async def chat(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    app = request.app
    name = request.query.get("name", "someone")[:40]
    app[CLIENTS].add(ws)
    await broadcast(app, {"type": "join", "name": name})
    try:
        async for msg in ws:
            if msg.type is web.WSMsgType.TEXT:
                try:
                    text = str(json.loads(msg.data)["text"])[:1000]
                except (ValueError, KeyError, TypeError):
                    continue  # not a chat message: ignore it
                await broadcast(app, {"type": "message", "name": name, "text": text})
    finally:
        app[CLIENTS].discard(ws)
    await broadcast(app, {"type": "leave", "name": name})
    return ws


async def close_clients(app: web.Application) -> None:
    """On shutdown, tell every browser the server is going away (1001)."""
    clients = app[CLIENTS]
    for ws in list(clients):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown")


def create_app(argv: list[str] | None = None) -> web.Application:
    app = web.Application()
    app[CLIENTS] = weakref.WeakSet[web.WebSocketResponse]()
    app.router.add_get("/", index)
    app.router.add_get("/ws", chat)
    app.on_shutdown.append(close_clients)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
