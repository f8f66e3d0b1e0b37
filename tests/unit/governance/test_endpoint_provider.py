"""The provider every governance Web3 uses reads replies defensively, on single and batch requests.

A real HTTP server on loopback stands in for the endpoint and answers each request with the body
the test gives it. The deep-nesting cases run in a fresh interpreter: with web3 imported, the
standard JSON decoder overflows the C stack on them and the process dies (SIGSEGV), which would
take the test run with it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from web3.types import RPCEndpoint

from governance import replies, rpc
from governance.errors import BadReply, ReplyTooLarge
from governance.rpc import connect_web3
from tests.unit.governance.isolated import run_isolated

#: Answers a request body with a reply body (and an HTTP status other than 200, if given).
Answer = Callable[[bytes], bytes | tuple[int, bytes]]


@pytest.fixture
def endpoint() -> Iterator[Callable[[Answer], str]]:
    """Starts a server answering with ``answer``; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                answered = answer(self.rfile.read(int(self.headers["Content-Length"])))
                status, data = answered if isinstance(answered, tuple) else (200, answered)
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a reply too large
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def fixed(body: bytes) -> Answer:
    return lambda request: body


def echo_ids(result: Any) -> Answer:
    """A well-formed reply (or batch of replies) with ``result`` for every request."""

    def answer(request: bytes) -> bytes:
        parsed = orjson.loads(request)
        calls = parsed if isinstance(parsed, list) else [parsed]
        replies = [{"jsonrpc": "2.0", "id": c["id"], "result": result} for c in calls]
        return orjson.dumps(replies if isinstance(parsed, list) else replies[0])

    return answer


def provider(url: str) -> Any:
    return connect_web3(url, timeout=5.0).provider


def test_deep_nesting_is_an_error_not_a_crash_on_single_and_batch_requests(
    endpoint: Callable[[Answer], str],
) -> None:
    url = endpoint(fixed(b"[" * 100_000))
    script = f"""
import sys
from web3.types import RPCEndpoint
from governance.errors import BadReply
from governance.rpc import connect_web3
from tests.unit.governance.isolated import run_isolated
assert sys.getrecursionlimit() >= 100_000  # what py_ecc (imported by web3) does
provider = connect_web3({url!r}, timeout=5.0).provider
for call in (lambda: provider.make_request(RPCEndpoint("eth_blockNumber"), []),
             lambda: provider.make_batch_request([(RPCEndpoint("eth_blockNumber"), [])])):
    try:
        call()
    except BadReply as exc:
        print(exc)
"""
    lines = run_isolated(script)
    assert len(lines) == 2
    assert all(f"the chain at {url} sent a reply that is not valid JSON" in line for line in lines)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>502 Bad Gateway</html>", "not valid JSON"),
        (b'"\xff\xfe"', "not valid JSON"),  # invalid UTF-8
        (b'{"jsonrpc": "2.0", "id": 1, "result": "\\ud800"}', "not valid JSON"),  # a lone surrogate
        (b'{"jsonrpc": "2.0", "id": 1, "result": 1e999}', "not valid JSON"),  # overflows a double
        (b"[1, 2, 3]", "not JSON-RPC 2.0: 1, not an object"),
        (b"[]", "an empty batch"),
        (b'{"id": 1, "result": "0x1"}', 'no "jsonrpc": "2.0"'),
        (b'{"jsonrpc": "2.0", "id": 1}', 'not exactly one of "result" and "error"'),
        (b'{"jsonrpc": "2.0", "id": [1], "result": "0x1"}', "an id that is neither"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": "boom"}', "an error without a message"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": {"message": "x", "code": "y"}}', "without an integer code"),
    ],
)
def test_a_reply_that_is_not_json_rpc_is_a_bad_reply(
    endpoint: Callable[[Answer], str], body: bytes, problem: str
) -> None:
    url = endpoint(fixed(body))
    with pytest.raises(BadReply, match=f"the chain at {url} sent a reply that is .*{problem}"):
        provider(url).make_request(RPCEndpoint("eth_blockNumber"), [])


def test_a_batch_reply_needs_integer_ids(endpoint: Callable[[Answer], str]) -> None:
    url = endpoint(fixed(b'[{"jsonrpc": "2.0", "id": 1, "result": "0x1"}, {"jsonrpc": "2.0", "id": "b", "result": 2}]'))
    with pytest.raises(BadReply, match="a batch reply without an integer id"):
        provider(url).make_batch_request([(RPCEndpoint("eth_blockNumber"), []), (RPCEndpoint("eth_chainId"), [])])


def test_a_reply_too_large_is_refused_unread_on_single_and_batch_requests(
    endpoint: Callable[[Answer], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rpc, "MAX_REPLY_BYTES", 1 << 20)
    url = endpoint(echo_ids("0x" + "00" * (1 << 20)))  # valid JSON-RPC, 2 MiB of it
    single = provider(url)
    with pytest.raises(ReplyTooLarge, match=f"reply too large: the chain at {url} sent more than 1 MiB"):
        single.make_request(RPCEndpoint("eth_call"), [])
    with pytest.raises(ReplyTooLarge, match="reply too large"):
        single.make_batch_request([(RPCEndpoint("eth_call"), [])])
    within = endpoint(echo_ids("0x" + "00" * 1000))
    assert provider(within).make_request(RPCEndpoint("eth_call"), [])["result"] == "0x" + "00" * 1000


def test_the_default_cap_fits_the_largest_log_ranges() -> None:
    # 10,000 logs (what public endpoints return at most per eth_getLogs) of about 1 KiB each
    assert rpc.MAX_REPLY_BYTES >= 10_000 * 1024 * 3


def test_a_chain_id_is_remembered_for_a_while_only(
    endpoint: Callable[[Answer], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["0x7a69", "0x5"])
    asked: list[bytes] = []

    def answer(request: bytes) -> bytes:
        asked.append(request)
        return orjson.dumps({"jsonrpc": "2.0", "id": orjson.loads(request)["id"], "result": next(answers)})

    w3 = connect_web3(endpoint(answer), timeout=5.0)
    assert w3.eth.chain_id == 31337
    assert w3.eth.chain_id == 31337  # remembered: one request
    assert len(asked) == 1
    monkeypatch.setattr(rpc, "CHAIN_ID_TTL_S", 0.0)  # the time to remember it has passed
    assert w3.eth.chain_id == 5  # the endpoint changed its chain: the provider knows it now


BLOCK = {"number": "0x7", "hash": "0x" + "ab" * 32, "parentHash": "0x" + "cd" * 32, "timestamp": "0x64"}


@pytest.mark.parametrize(
    "refusal",
    [
        (200, b'{"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "no batches"}}'),
        (400, b"batch requests are not supported"),
    ],
)
def test_an_endpoint_without_batches_is_asked_one_request_at_a_time(
    endpoint: Callable[[Answer], str], refusal: tuple[int, bytes]
) -> None:
    def answer(request: bytes) -> bytes | tuple[int, bytes]:
        call = orjson.loads(request)
        if isinstance(call, list):
            return refusal
        result = "0x7a69" if call["method"] == "eth_chainId" else BLOCK
        return orjson.dumps({"jsonrpc": "2.0", "id": call["id"], "result": result})

    w3 = connect_web3(endpoint(answer), timeout=5.0)
    chain_id, block = replies.chain_and_block(w3, 7)
    assert (chain_id, block.number, block.timestamp) == (31337, 7, 100)
