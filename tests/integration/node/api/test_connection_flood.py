"""Strangers on the machine flooding a real node's API with connections and bodies, without the
token: the member's own requests still get through, no stranger's body is read, and what the API
holds stays bounded by its connection cap (measured by the node's own counts in ``/v1/status``).

The node runs with 1,024 file descriptors (a common default limit), so a flood that the API does
not cap would exhaust them and leave the member's connection unaccepted."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from governance.anvil import Anvil
from node.api.connections import MAX_CONNECTIONS
from node.api.guard import MAX_JSON_BODY
from node.harness.process import NodeProcess, wait_until

from .conftest import start_member_node

NOFILE = 1024
STRANGERS = 1_200  # more connections than the node has file descriptors
ANNOUNCED = 2 * 1024 * 1024  # what each body-sending stranger claims to send
PUSHED = 128 * 1024  # what it does send before reading the answer
#: Body bytes the API may hold for one request: only the member's bodies are read, none of these.
PER_REQUEST = MAX_JSON_BODY


@pytest.fixture(scope="module")
def node(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    limit = ("prlimit", f"--nofile={NOFILE}:{NOFILE}", "--")
    running = start_member_node(anvil, tmp_path_factory.mktemp("flood") / "member", command_prefix=limit)
    yield running
    running.stop()


def _head(port: int, method: str, path: str, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()


@contextmanager
def keep_alive_strangers(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections: every other one silent, the others asking for the public
    /openapi.json every second and reading the answers (so a server that keeps connections alive
    keeps them), until the block ends or the server closes them."""
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    stop = threading.Event()
    request = _head(port, "GET", "/openapi.json")

    def chatter() -> None:
        with selectors.DefaultSelector() as selector:
            for sock in sockets:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            while not stop.is_set():
                for key in list(selector.get_map().values()):
                    if key.fd % 2:
                        _send_or_forget(selector, key.fileobj, request)  # type: ignore[arg-type]
                deadline = time.monotonic() + 1.0
                while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                    for key, _ in selector.select(timeout=left):
                        _read_or_forget(selector, key.fileobj)  # type: ignore[arg-type]

    thread = threading.Thread(target=chatter, daemon=True)
    thread.start()
    try:
        yield sockets
    finally:
        stop.set()
        thread.join()
        for sock in sockets:
            sock.close()


def _send_or_forget(selector: selectors.BaseSelector, sock: socket.socket, data: bytes) -> None:
    try:
        sock.send(data)
    except BlockingIOError:
        pass
    except OSError:
        selector.unregister(sock)  # closed by the server


def _read_or_forget(selector: selectors.BaseSelector, sock: socket.socket) -> None:
    try:
        if sock.recv(1 << 20):
            return
    except BlockingIOError:
        return
    except OSError:
        pass
    selector.unregister(sock)  # closed by the server


def test_the_member_gets_through_while_strangers_hold_more_connections_than_the_node_has_files(
    node: NodeProcess,
) -> None:
    port = node.config.api_port
    with keep_alive_strangers(port, STRANGERS):
        # the member's own requests, while 1,200 strangers' connections are open
        status = node.api.get("/v1/status")
        assert node.api.post("/v1/posts", {"text": "the member still gets through"})["id"]
        api = status["api"]
        assert api["open"] <= api["limit"] == MAX_CONNECTIONS
        assert api["peak"] <= MAX_CONNECTIONS
        assert api["accepted"] > STRANGERS  # every stranger's connection was taken and let go
    assert node.running


def test_strangers_bodies_are_never_read_and_nothing_stays_buffered(node: NodeProcess) -> None:
    port = node.config.api_port
    answered = 0
    batch = MAX_CONNECTIONS // 2  # fewer than the cap, so none is evicted before its answer
    for _ in range(300 // batch):
        strangers = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(batch)]
        for index, sock in enumerate(strangers):
            token = "" if index % 2 else "authorization: Bearer not-the-token\r\n"
            sock.sendall(_head(port, "POST", "/v1/blobs", f"{token}content-length: {ANNOUNCED}\r\n"))
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.send(b"\xff" * PUSHED)  # as much of it as the socket takes
            sock.settimeout(30)
        for sock in strangers:
            answer = sock.recv(4096)  # the refusal comes without the rest of the body being sent
            assert answer.startswith(b"HTTP/1.1 401 "), answer[:100]
            answered += 1
            sock.close()
    api = node.api.get("/v1/status")["api"]
    assert api["refused"]["401"] >= answered
    # strangers pushed 300 * 128 KiB; the app read none of it (the member's own small post aside)
    assert api["peak_buffered_bytes"] <= PER_REQUEST < answered * PUSHED // 10
    assert api["buffered_bytes"] == 0  # the status request has no body
    # and every refused connection is let go (closing runs after each answer was sent)
    wait_until(lambda: node.api.get("/v1/status")["api"]["open"] <= 2, 30, "the refused connections closed")
