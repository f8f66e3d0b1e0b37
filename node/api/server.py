"""The API's HTTP server: Hypercorn's HTTP/1.1 connection handling, on loopback, in the node's nursery.

Hypercorn does the protocol (h11 parsing, keep-alive, 100-continue, timeouts); kiez adds only the
connection cap of ``node.api.connections`` in front of it, because Hypercorn has none and anyone
on the machine can connect: each accepted connection first takes a slot (evicting the
longest-waiting stranger when all are taken) and then runs as Hypercorn's own ``TCPServer``.
That is why this module uses Hypercorn's worker parts instead of ``hypercorn.trio.serve``: the
serve function owns its accept loop. The parts are those of the pinned version (0.18).
"""

from __future__ import annotations

import contextlib
import logging
from functools import partial
from typing import TYPE_CHECKING

import trio
from hypercorn.config import Config
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ASGIFramework, ConnectionState
from hypercorn.utils import wrap_app

from node.api.connections import Connections
from node.api.guard import MAX_HEAD

if TYPE_CHECKING:
    # trio-typing (pulled in by py-libp2p) ships stubs that shadow trio's own annotations.
    from trio_typing import TaskStatus

log = logging.getLogger(__name__)

#: Seconds a connection may wait for its (next) request's head. (No read timeout once a request
#: is admitted: only the member's requests get that far, and an event stream sends nothing back.)
HEAD_TIMEOUT = 10.0


def config() -> Config:
    """Hypercorn's settings for the API: small heads, short waits, no logs of its own but errors."""
    settings = Config()
    settings.keep_alive_timeout = HEAD_TIMEOUT
    settings.h11_max_incomplete_size = MAX_HEAD
    settings.max_app_queue_size = 4  # body chunks waiting for the app, per request
    settings.accesslog = None
    settings.errorlog = logging.getLogger("node.api.hypercorn")
    settings.include_server_header = False
    settings.include_date_header = True
    return settings


async def serve(
    app: ASGIFramework,
    connections: Connections,
    port: int,
    *,
    task_status: TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serves ``app`` on 127.0.0.1:``port`` (0: any free port); reports the bound port when listening."""
    listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
    bound: int = listeners[0].socket.getsockname()[1]
    handle = partial(_connection, wrap_app(app, 0, "asgi"), config(), WorkerContext(None), connections)
    task_status.started(bound)
    await trio.serve_listeners(handle, listeners)


async def _connection(
    app: object, settings: Config, context: WorkerContext, connections: Connections, stream: trio.SocketStream
) -> None:
    try:
        peer = stream.socket.getpeername()
    except OSError:
        await trio.aclose_forcefully(stream)
        return
    key = (str(peer[0]), int(peer[1]))
    with trio.CancelScope() as scope:
        slot = connections.open(key, scope)
        if slot is None:
            await _send_busy(stream)
            return
        try:
            await TCPServer(app, settings, context, ConnectionState({}), stream)  # type: ignore[arg-type]
        except Exception:
            # a defect here must cost one connection, never the node (the server's nursery is the node's)
            log.exception("API connection failed")
        finally:
            connections.close(key)
    if scope.cancelled_caught:
        await trio.aclose_forcefully(stream)  # evicted


async def _send_busy(stream: trio.SocketStream) -> None:
    """Answers a connection for which no slot is free (every one serves the member), unread."""
    payload = b'{"error": "the API is serving as many requests as it takes; try again"}\n'
    head = (
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n"
        b"content-length: %d\r\nretry-after: 1\r\nconnection: close\r\n\r\n" % len(payload)
    )
    with trio.move_on_after(1.0):
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.send_all(head + payload)
    await trio.aclose_forcefully(stream)
