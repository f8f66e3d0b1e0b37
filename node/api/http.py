"""A minimal HTTP/1.1 server on trio + h11, enough for a local JSON API.

Why not a framework: the API has a handful of routes, runs inside the node's trio nursery, and
must stay on loopback with a token; h11 does the protocol (parsing, framing, keep-alive) without
I/O of its own, so the whole server is this file and nothing runs outside structured concurrency.
Bounded on purpose: request bodies up to 2 MiB and a bit (an attachment), 10 s to receive one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import h11
import trio

from node.errors import NodeError

if TYPE_CHECKING:
    # trio-typing (pulled in by py-libp2p) ships stubs that shadow trio's own annotations.
    from trio_typing import TaskStatus

log = logging.getLogger(__name__)

MAX_BODY = 2 * 1024 * 1024 + 64 * 1024  # an attachment upload (2 MiB) and some
REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"the request body is not JSON: {exc}") from None


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw: bool = False  # body is bytes sent as they are (with its content-type in headers)


class HttpError(NodeError):
    """A request the API refuses; the server answers ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Handler = Callable[[Request], Awaitable[Response]]


async def serve(handler: Handler, port: int, *, task_status: TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
    """Serves on 127.0.0.1:``port`` (0: any free port); reports the bound port when listening."""
    listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
    bound = listeners[0].socket.getsockname()[1]
    task_status.started(bound)
    await trio.serve_listeners(lambda stream: _connection(stream, handler), listeners)


async def _connection(stream: trio.SocketStream, handler: Handler) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            with trio.move_on_after(REQUEST_TIMEOUT) as timeout:
                request = await _read_request(stream, conn)
            if timeout.cancelled_caught or request is None:
                return
            try:
                response = await handler(request)
            except HttpError as exc:
                response = Response(exc.status, {"error": exc.message})
            except Exception:
                log.exception("API handler failed for %s %s", request.method, request.path)
                response = Response(500, {"error": "internal error; see the node's log"})
            await _send(stream, conn, response)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError):
        return
    finally:
        await stream.aclose()


async def _read_request(stream: trio.SocketStream, conn: h11.Connection) -> Request | None:
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(16 * 1024)
            conn.receive_data(data)
            if not data and conn.their_state is not h11.DONE:
                return None
            continue
        if isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                await _send(stream, conn, Response(413, {"error": f"request body over {MAX_BODY} bytes"}))
                return None
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            target = urlsplit(head.target.decode("ascii", "replace"))
            return Request(
                method=head.method.decode("ascii"),
                path=target.path,
                query=dict(parse_qsl(target.query)),
                headers={k.decode("ascii").lower(): v.decode("latin-1") for k, v in head.headers},
                body=bytes(body),
            )
        elif isinstance(event, h11.ConnectionClosed):
            return None


async def _send(stream: trio.SocketStream, conn: h11.Connection, response: Response) -> None:
    if response.raw:
        payload = bytes(response.body)
        kind = response.headers.get("content-type", "application/octet-stream")
    else:
        payload = (json.dumps(response.body, ensure_ascii=False) + "\n").encode()
        kind = "application/json; charset=utf-8"
    headers = [
        ("content-type", kind),
        ("content-length", str(len(payload))),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        *((k, v) for k, v in response.headers.items() if k != "content-type"),
    ]
    await stream.send_all(conn.send(h11.Response(status_code=response.status, headers=headers)))
    await stream.send_all(conn.send(h11.Data(data=payload)))
    await stream.send_all(conn.send(h11.EndOfMessage()))
