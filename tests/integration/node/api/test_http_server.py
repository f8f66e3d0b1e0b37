"""The API's HTTP server (Hypercorn behind the guard) on a real loopback socket: requests judged
from their heads before any body is read, connections capped with strangers evicted first, idle
ones closed, and no failure of a handler reaching the client as more than a plain 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import pytest
import trio
import trio.testing
from fastapi import FastAPI

from node.api.app import framework_app
from node.api.connections import Connections
from node.api.fields import Body, Integer
from node.api.guard import MAX_HEAD, MAX_JSON_BODY, Guard
from node.api.problems import Json
from node.api.server import HEAD_TIMEOUT, serve
from node.api.session import Sessions

TOKEN = b"the-token"
HOST = "127.0.0.1"


class Server:
    def __init__(self, port: int, connections: Connections, release: trio.Event) -> None:
        self.port = port
        self.connections = connections
        self.release = release

    async def connect(self) -> trio.SocketStream:
        return await trio.open_tcp_stream(HOST, self.port)

    def head(self, method: str, path: str, *, token: bytes | None = TOKEN, extra: str = "") -> bytes:
        auth = f"authorization: Bearer {token.decode()}\r\n" if token is not None else ""
        return f"{method} {path} HTTP/1.1\r\nhost: {HOST}:{self.port}\r\n{auth}{extra}\r\n".encode()


class Numbers(Body):
    n: Annotated[int, Integer(0, 9)] = 0


def test_app(release: trio.Event) -> FastAPI:
    async def echo() -> Json:
        return Json({"data": {}})

    async def echo_body(body: Numbers) -> Json:
        return Json({"data": body.model_dump()})

    async def boom() -> Json:
        raise ValueError("a secret detail of the handler")

    async def wait() -> Json:
        await release.wait()
        return Json({"waited": True})

    app = framework_app()
    routes = app.router
    routes.add_api_route("/v1/echo", echo, methods=["GET"])
    routes.add_api_route("/v1/echo", echo_body, methods=["POST"])
    routes.add_api_route("/v1/boom", boom, methods=["GET"])
    routes.add_api_route("/v1/wait", wait, methods=["GET"])
    return app


test_app.__test__ = False  # type: ignore[attr-defined]


@asynccontextmanager
async def running(limit: int = 64) -> AsyncIterator[Server]:
    release = trio.Event()
    app = test_app(release)
    connections = Connections(limit=limit)
    guard = Guard(app, app.router.routes, TOKEN, Sessions(), connections)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve, guard, connections, 0)
        try:
            yield Server(port, connections, release)
        finally:
            release.set()
            nursery.cancel_scope.cancel()


async def read_response(stream: trio.SocketStream) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response (status, headers, body), read by hand so nothing is hidden."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(65536)
        assert chunk, f"the connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = await stream.receive_some(65536)
        assert chunk
        body += chunk
    return int(lines[0].split()[1]), headers, body


async def closed_by_server(stream: trio.SocketStream) -> bool:
    try:
        return await stream.receive_some(65536) == b""
    except trio.BrokenResourceError:  # a reset is a close too
        return True


def run(test: Callable[[], Awaitable[None]]) -> None:
    trio.run(test, clock=trio.testing.MockClock(autojump_threshold=0))


def test_a_wrong_token_is_refused_from_the_head_and_the_body_is_never_read() -> None:
    async def test() -> None:
        async with running() as server:
            for token in (None, b"wrong"):
                stream = await server.connect()
                # a head announcing 2 MiB, and not one byte of the body: the answer must not wait for it
                await stream.send_all(server.head("POST", "/v1/echo", token=token, extra="content-length: 2097152\r\n"))
                status, headers, body = await read_response(stream)
                assert (status, headers["connection"]) == (401, "close")
                assert b"missing or wrong API token" in body
                assert await closed_by_server(stream)
            assert server.connections.refused == {"401": 2}
            assert server.connections.peak_buffered < 1024

    run(test)


def test_a_body_over_the_routes_limit_is_refused_unread() -> None:
    async def test() -> None:
        async with running() as server:
            stream = await server.connect()
            await stream.send_all(server.head("POST", "/v1/echo", extra=f"content-length: {MAX_JSON_BODY + 1}\r\n"))
            status, _, body = await read_response(stream)
            assert status == 413
            assert f"over {MAX_JSON_BODY} bytes".encode() in body
            assert await closed_by_server(stream)
            # and a chunked body is cut off as soon as it passes the limit
            stream = await server.connect()
            chunk = b"x" * 40_000
            framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            await stream.send_all(server.head("POST", "/v1/echo", extra="transfer-encoding: chunked\r\n") + framed * 2)
            assert (await read_response(stream))[0] == 413

    run(test)


def test_a_request_for_another_host_or_with_a_broken_head_is_a_400() -> None:
    async def test() -> None:
        async with running() as server:
            stream = await server.connect()
            rebound = f"GET /v1/echo HTTP/1.1\r\nhost: attacker.example:{server.port}\r\n"
            await stream.send_all(f"{rebound}authorization: Bearer {TOKEN.decode()}\r\n\r\n".encode())
            status, _, body = await read_response(stream)
            assert status == 400
            assert b"Host header" in body
            for broken, expected, kind in (
                # what HTTP itself refuses, Hypercorn answers in its own few bytes
                (b"NOT HTTP AT ALL\r\n\r\n", 400, None),
                (server.head("GET", "/v1/echo", extra="x-pad: " + "a" * 2 * MAX_HEAD + "\r\n"), 431, None),
                (server.head("GET", "/v1/echo?room=%ff"), 400, "application/json; charset=utf-8"),
                (server.head("GET", "/v1/echo?a=1&a=2"), 400, "application/json; charset=utf-8"),
            ):
                stream = await server.connect()
                await stream.send_all(broken)
                status, headers, body = await read_response(stream)
                assert status == expected, (status, broken[:40])
                assert kind is None or headers["content-type"] == kind, broken[:40]
                assert await closed_by_server(stream)

    run(test)


def test_a_handler_failure_is_a_plain_500_and_the_connection_keeps_serving() -> None:
    async def test() -> None:
        async with running() as server:
            stream = await server.connect()
            await stream.send_all(server.head("GET", "/v1/boom"))
            status, _, body = await read_response(stream)
            assert status == 500
            assert body == b'{"error": "internal error; see the node\'s log"}\n'
            await stream.send_all(server.head("GET", "/v1/echo"))
            assert (await read_response(stream))[0] == 200

    run(test)


def test_deeply_nested_json_is_a_400() -> None:
    async def test() -> None:
        async with running() as server:
            for body in (b"[" * 60_000, b'{"n":' * 12_000):
                stream = await server.connect()
                extra = f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
                await stream.send_all(server.head("POST", "/v1/echo", extra=extra) + body)
                status, _, answer = await read_response(stream)
                assert status == 400
                assert b"not valid JSON" in answer

    run(test)


def test_connections_beyond_the_cap_evict_the_longest_waiting_stranger() -> None:
    async def test() -> None:
        async with running(limit=4) as server:
            strangers = []
            for _ in range(12):
                strangers.append(await server.connect())
                await trio.sleep(0.01)  # each is accepted before the next
            member = await server.connect()
            await member.send_all(server.head("GET", "/v1/echo"))
            assert (await read_response(member))[0] == 200
            assert server.connections.open_count <= 4
            assert server.connections.evicted >= 9
            for stream in strangers[:8]:
                assert await closed_by_server(stream)

    run(test)


def test_when_every_slot_serves_the_member_a_new_connection_is_told_to_retry() -> None:
    async def test() -> None:
        async with running(limit=2) as server:
            waiting = [await server.connect() for _ in range(2)]
            for stream in waiting:
                await stream.send_all(server.head("GET", "/v1/wait"))
            await trio.sleep(0.1)
            late = await server.connect()
            status, headers, _ = await read_response(late)
            assert (status, headers["retry-after"]) == (503, "1")
            server.release.set()
            for stream in waiting:
                assert (await read_response(stream))[0] == 200
            assert server.connections.refused == {"busy": 1}

    run(test)


def test_an_idle_connection_is_closed_and_gives_back_what_it_held() -> None:
    async def test() -> None:
        async with running() as server:
            kept = await server.connect()
            await kept.send_all(server.head("GET", "/v1/echo"))
            assert (await read_response(kept))[0] == 200
            silent = await server.connect()
            partial = await server.connect()
            await partial.send_all(b"GET /v1/echo HTTP/1.1\r\nhost: ")
            await trio.sleep(HEAD_TIMEOUT + 1)
            for stream in (kept, silent, partial):
                assert await closed_by_server(stream)
            assert server.connections.open_count == 0
            assert server.connections.buffered == 0

    run(test)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "DELETE"])
def test_other_methods_are_refused_and_the_server_keeps_serving(method: str) -> None:
    async def test() -> None:
        async with running() as server:
            stream = await server.connect()
            await stream.send_all(server.head(method, "/v1/echo"))
            status, _, _ = await read_response(stream) if method != "HEAD" else await _head_response(stream)
            assert status == 405
            assert await closed_by_server(stream)
            stream = await server.connect()
            await stream.send_all(server.head("GET", "/v1/echo"))
            assert (await read_response(stream))[0] == 200

    run(test)


async def _head_response(stream: trio.SocketStream) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(65536)
        assert chunk, "the connection closed before a response"
        data += chunk
    return int(data.split()[1]), {}, b""
