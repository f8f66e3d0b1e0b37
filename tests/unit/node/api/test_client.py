"""The CLI's API client turns a node that dies mid-answer into an ApiError, never a traceback."""

from __future__ import annotations

import socket
import threading

import pytest

from node.api.client import ApiClient
from node.errors import ApiError


def _server(reply: bytes) -> tuple[socket.socket, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_once() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(reply)  # then closes: the answer is cut short

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    return listener, thread


@pytest.mark.parametrize(
    "reply",
    [
        b'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":',
        b'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"err',
        b"HTTP/1.1 20",
    ],
    ids=["cut-201", "cut-400", "cut-status-line"],
)
def test_an_answer_broken_off_is_an_api_error(reply: bytes) -> None:
    listener, thread = _server(reply)
    try:
        client = ApiClient(f"http://127.0.0.1:{listener.getsockname()[1]}", b"token", timeout=10)
        with pytest.raises(ApiError) as caught:
            client.post("/v1/posts", {"text": "hello"})
        assert str(caught.value)  # a sentence for the member: the node's reason, or that it broke off
    finally:
        thread.join(timeout=10)
        listener.close()
