"""A JSON-RPC endpoint that misbehaves on command: a small HTTP proxy in front of a real Anvil.

It forwards every request (single or batch) to Anvil and passes the reply back, unless the test
has told it to misbehave: to answer every request for some methods with a fixed body (100,000
nested ``[``, 50 MB, text that is not JSON), or to rewrite the result of some calls (another
chain id, a block number that is not hex, logs that name another block). ``behave()`` puts it
back to honest forwarding. It runs in threads of the test process; the node under test is another
process that only knows the proxy's URL.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Rewrites the result of one call: (method, params, result) -> the result to send instead.
Rewrite = Callable[[str, list[Any], Any], Any]


@dataclass
class HostileRpc:
    upstream: str
    #: Requests for these methods (any, when None) get ``body`` as their whole reply.
    body: bytes | None = None
    body_for: frozenset[str] | None = None
    #: Results of calls for these methods (any, when None) pass through ``rewrite``.
    rewrite: Rewrite | None = None
    rewrite_for: frozenset[str] | None = None
    #: Methods asked for since the last ``behave()`` (to wait until the node has met the mischief).
    seen: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def behave(self) -> None:
        with self._lock:
            self.body = self.body_for = self.rewrite = self.rewrite_for = None
            self.seen.clear()

    def reply_with(self, body: bytes, methods: set[str] | None = None) -> None:
        """Every request for ``methods`` (any, when None) is answered with ``body``."""
        with self._lock:
            self.body, self.body_for = body, frozenset(methods) if methods is not None else None
            self.seen.clear()

    def rewrite_results(self, rewrite: Rewrite, methods: set[str] | None = None) -> None:
        """Results of calls for ``methods`` (any, when None) are replaced by ``rewrite``'s."""
        with self._lock:
            self.rewrite, self.rewrite_for = rewrite, frozenset(methods) if methods is not None else None
            self.seen.clear()

    def asked(self, method: str) -> bool:
        with self._lock:
            return method in self.seen

    # -- the server ------------------------------------------------------------------------------
    def _answer(self, raw: bytes) -> bytes:
        request = json.loads(raw)
        calls = request if isinstance(request, list) else [request]
        with self._lock:
            methods = [str(c.get("method")) for c in calls]
            self.seen.extend(methods)
            body, body_for, rewrite, rewrite_for = self.body, self.body_for, self.rewrite, self.rewrite_for
        if body is not None and (body_for is None or body_for & set(methods)):
            return body
        forwarded = urllib.request.Request(self.upstream, data=raw, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(forwarded, timeout=30) as response:
            reply = json.loads(response.read())
        if rewrite is None:
            return json.dumps(reply).encode()
        replies = reply if isinstance(reply, list) else [reply]
        by_id = {c.get("id"): c for c in calls}
        for one in replies:
            call = by_id.get(one.get("id"), {})
            method = str(call.get("method"))
            if "result" in one and (rewrite_for is None or method in rewrite_for):
                one["result"] = rewrite(method, list(call.get("params") or []), one["result"])
        return json.dumps(reply).encode()

    def start(self) -> HostileRpc:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                data = proxy._answer(raw)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a reply it found too large: what we test

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def hostile_rpc(upstream: str) -> Iterator[HostileRpc]:
    proxy = HostileRpc(upstream).start()
    try:
        yield proxy
    finally:
        proxy.stop()
