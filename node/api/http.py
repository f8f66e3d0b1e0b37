"""A minimal HTTP/1.1 server on trio + h11, enough for a local JSON API.

Why not a framework: the API has a handful of routes, runs inside the node's trio nursery, and
must stay on loopback with a token; h11 does the protocol (parsing, framing, keep-alive) without
I/O of its own, so the whole server is this file and nothing runs outside structured concurrency.

Bounded on purpose, because anyone on the machine can connect: a request's head (16 KiB and one
read at most) is judged before any of its body is read (the Host, then the application's
``admit``: the token, the route, the body's declared size), and a refused request is answered and
its connection closed with the body unread. Only an admitted body is read, in bounded chunks, up
to the size the route allows. Keep-alive is for requests with the token; connections are capped
and counted (``node/api/connections.py``); every wait has a timeout.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

import h11
import trio

from node.api.connections import Connections, Slot
from node.core.jsontext import BadJson, parse
from node.errors import NodeError

if TYPE_CHECKING:
    # trio-typing (pulled in by py-libp2p) ships stubs that shadow trio's own annotations.
    from trio_typing import TaskStatus

log = logging.getLogger(__name__)

#: The request line and headers; a longer head is refused (431) before anything else.
MAX_HEAD = 16 * 1024
#: Bytes read at a time: small while a head is unjudged, larger for an admitted body.
HEAD_CHUNK = 8 * 1024
BODY_CHUNK = 64 * 1024
#: Query parameters a request may carry (no route takes more than a few).
MAX_QUERY_FIELDS = 16
#: Seconds to wait for a request's head (on a new connection, or the next one on a kept-alive
#: connection), then for its body, then for the client to take the answer.
HEAD_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class Head:
    """A request before its body: what ``Application.admit`` judges."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class Request(Head):
    """A whole request: its head and the body read once the head was admitted."""

    body: bytes

    def json(self) -> Any:
        """The body's JSON value (``{}`` for an empty body); 400 for anything that is not JSON."""
        try:
            return parse(self.body or b"{}")
        except BadJson as exc:
            raise HttpError(400, f"the request body is {exc}") from None


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


@dataclass(frozen=True)
class Admission:
    """A head the application accepts: the largest body it may send, and whether it presented
    the token (its connection is then never evicted while the request is served)."""

    max_body: int
    authenticated: bool


class Application(Protocol):
    connections: Connections

    def admit(self, head: Head) -> Admission:
        """Judges a request from its head alone; raises ``HttpError`` to refuse it unread."""
        ...

    async def handle(self, request: Request) -> Response: ...


async def serve(app: Application, port: int, *, task_status: TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
    """Serves on 127.0.0.1:``port`` (0: any free port); reports the bound port when listening."""
    listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
    bound: int = listeners[0].socket.getsockname()[1]
    task_status.started(bound)
    await trio.serve_listeners(partial(_connection, app=app, hosts=_hosts(bound)), listeners)


def _hosts(port: int) -> frozenset[str]:
    """The Host headers of a request meant for this server (another name is a rebound DNS name)."""
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})


async def _connection(stream: trio.SocketStream, *, app: Application, hosts: frozenset[str]) -> None:
    connections = app.connections
    try:
        with trio.CancelScope() as scope:
            slot = connections.open(scope)
            if slot is None:
                await _send_busy(stream)
                return
            try:
                await _exchange(stream, app, slot, hosts)
            finally:
                connections.close(slot)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    except Exception:
        # a defect here must cost one connection, never the node (the server's nursery is the node's)
        log.exception("API connection failed")
    finally:
        await trio.aclose_forcefully(stream)


async def _exchange(stream: trio.SocketStream, app: Application, slot: Slot, hosts: frozenset[str]) -> None:
    """Request after request on one connection, until it closes, times out or is refused."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    connections = app.connections
    while True:
        event: Any = None
        body: bytes | None = None
        head_only = False
        try:
            with trio.move_on_after(HEAD_TIMEOUT):
                event = await _next_event(stream, conn, slot, connections, HEAD_CHUNK)
            if not isinstance(event, h11.Request):
                return  # closed, or nothing came in time
            head_only = event.method == b"HEAD"  # h11 sends no body in answer to a HEAD
            head = _head(event, hosts)
            admission = _admit(app, head)
            connections.protect(slot, admission.authenticated)
            if conn.they_are_waiting_for_100_continue:
                await stream.send_all(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
            with trio.move_on_after(BODY_TIMEOUT) as waiting:
                body = await _read_body(stream, conn, slot, connections, admission.max_body)
            connections.timeouts += waiting.cancelled_caught
            if body is None:
                return  # the client closed, or its body did not come in time
        except (h11.RemoteProtocolError, HttpError) as exc:
            # refused before (or while) its body was read: answered, and the connection closed unread
            refusal = _refusal(exc)
            connections.refuse(str(refusal.status))
            await _send(stream, conn, refusal, close=True, head_only=head_only)
            return
        response = await _answer(app, Request(head.method, head.path, head.query, head.headers, body))
        connections.hold(slot, 0)
        # keep-alive is for the member: a connection without the token gets one answer
        if not await _send(stream, conn, response, close=not admission.authenticated, head_only=head_only):
            return
        connections.protect(slot, False)
        if not admission.authenticated or h11.MUST_CLOSE in {conn.our_state, conn.their_state}:
            return
        conn.start_next_cycle()


def _refusal(exc: h11.RemoteProtocolError | HttpError) -> Response:
    if isinstance(exc, HttpError):
        return _error(exc)
    return Response(exc.error_status_hint, {"error": f"malformed request: {exc}"})


async def _next_event(
    stream: trio.SocketStream, conn: h11.Connection, slot: Slot, connections: Connections, chunk: int, body: int = 0
) -> Any:
    """h11's next event, receiving at most ``chunk`` bytes at a time; what the connection holds
    (h11's unparsed input and the ``body`` bytes read so far) is counted after every read."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await stream.receive_some(chunk))
        connections.hold(slot, body + len(conn.trailing_data[0]))


async def _read_body(
    stream: trio.SocketStream, conn: h11.Connection, slot: Slot, connections: Connections, limit: int
) -> bytes | None:
    """An admitted request's body, refused (413) as soon as it grows past ``limit``; None if the
    client closed the connection before the body ended."""
    body = bytearray()
    while True:
        event = await _next_event(stream, conn, slot, connections, BODY_CHUNK, len(body))
        if isinstance(event, h11.Data):
            body += event.data
            if len(body) > limit:
                raise HttpError(413, f"the request body is over {limit} bytes")
        elif isinstance(event, h11.EndOfMessage):
            return bytes(body)
        else:
            return None


def _head(event: h11.Request, hosts: frozenset[str]) -> Head:
    """The head's parts, refusing a request meant for another host and a target that is not a path."""
    headers = {k.decode("ascii").lower(): v.decode("latin-1") for k, v in event.headers}
    if headers.get("host", "").lower() not in hosts:
        raise HttpError(400, f"the Host header must be one of {', '.join(sorted(hosts))}")
    target = event.target.decode("ascii", "replace")
    if not target.startswith("/"):
        raise HttpError(400, "the request target must be a path (origin form, /v1/...)")
    path, _, query = target.partition("?")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        raise HttpError(400, f"the query string is not UTF-8 or has over {MAX_QUERY_FIELDS} parameters") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        raise HttpError(400, "a query parameter is given twice")
    return Head(event.method.decode("ascii"), path, params, headers)


def _admit(app: Application, head: Head) -> Admission:
    admission = app.admit(head)
    declared = head.headers.get("content-length")
    if declared is not None and int(declared) > admission.max_body:
        raise HttpError(413, f"the request body is over {admission.max_body} bytes")
    return admission


async def _answer(app: Application, request: Request) -> Response:
    try:
        return await app.handle(request)
    except HttpError as exc:
        return _error(exc)
    except Exception:
        log.exception("API handler failed for %s %s", request.method, request.path)
        return Response(500, {"error": "internal error; see the node's log"})


def _error(exc: HttpError) -> Response:
    return Response(exc.status, {"error": exc.message})


async def _send(
    stream: trio.SocketStream, conn: h11.Connection, response: Response, close: bool = False, head_only: bool = False
) -> bool:
    """Sends ``response`` (with ``connection: close`` if ``close``); False if it could not be."""
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
        *((k, v) for k, v in response.headers.items() if k not in ("content-type", "x-content-type-options")),
        *([("connection", "close")] if close else []),
    ]
    with trio.move_on_after(SEND_TIMEOUT):
        try:
            data = conn.send(h11.Response(status_code=response.status, headers=headers))
            if not head_only:
                data = (data or b"") + (conn.send(h11.Data(data=payload)) or b"")
            data = (data or b"") + (conn.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:
            return False  # h11 cannot answer in this state (a broken request): just close
        await stream.send_all(data)
        return True
    return False


async def _send_busy(stream: trio.SocketStream) -> None:
    """Answers a connection for which no slot is free (every one serves the member), unread."""
    payload = b'{"error": "the API is serving as many requests as it takes; try again"}\n'
    head = (
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\nretry-after: 1\r\nconnection: close\r\n\r\n" % len(payload)
    )
    with trio.move_on_after(1.0):
        await stream.send_all(head + payload)
