"""``GET /v1/stream`` on a real node: a change event follows each stored message, only for the
member, and the number of streams is capped so they never take every connection slot."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from governance.anvil import Anvil
from node.api.stream import MAX_STREAMS
from node.config import read_secret
from node.harness.process import NodeProcess, wait_until

from .conftest import start_member_node


@pytest.fixture(scope="module")
def node(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    running = start_member_node(anvil, tmp_path_factory.mktemp("stream") / "member")
    yield running
    running.stop()


class Events:
    """One open stream, read by hand: the status line, then one event at a time."""

    def __init__(self, node: NodeProcess, token: bool = True) -> None:
        port = node.config.api_port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        auth = f"authorization: Bearer {read_secret(node.config.token_path).strip().decode()}\r\n" if token else ""
        self.sock.sendall(f"GET /v1/stream HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{auth}\r\n".encode())
        self.data = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split()[1])

    def _until(self, mark: bytes) -> bytes:
        while mark not in self.data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"the stream ended: {self.data!r}")
            self.data += chunk
        part, _, self.data = self.data.partition(mark)
        return part

    def next(self) -> tuple[str, dict[str, int]]:
        """The next event's name and data (chunked framing lines skipped)."""
        block = self._until(b"\n\n").decode()
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        return fields["event"], json.loads(fields["data"])

    def close(self) -> None:
        self.sock.close()


def test_a_stored_post_is_announced_on_the_members_stream(node: NodeProcess) -> None:
    events = Events(node)
    try:
        assert events.status == 200
        name, first = events.next()
        assert name == "change"
        node.api.post("/v1/posts", {"text": "announced"})
        name, data = events.next()
        while name == "tick":
            name, data = events.next()
        assert (name, data["version"] > first["version"]) == ("change", True)
    finally:
        events.close()


def test_a_stranger_gets_no_stream(node: NodeProcess) -> None:
    stranger = Events(node, token=False)
    assert stranger.status == 401
    stranger.close()


def test_streams_are_capped_and_a_closed_one_gives_its_place_back(node: NodeProcess) -> None:
    open_streams = [Events(node) for _ in range(MAX_STREAMS)]
    try:
        for events in open_streams:
            assert events.status == 200
            events.next()  # each generator has started, so it is counted
        late = Events(node)
        assert late.status == 429
        late.close()
        assert node.api.get("/v1/status")["peers"] is not None  # requests still get through
    finally:
        for events in open_streams:
            events.close()

    # closed streams are let go, and a new one opens
    def reopened() -> bool:
        events = Events(node)
        events.close()
        return events.status == 200

    wait_until(reopened, 60, "a stream once the others closed")
