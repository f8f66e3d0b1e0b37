"""Posting through a node's local API on one kept-alive HTTP connection.

A member's web app posts over the connection its browser keeps open; ``ApiClient`` (the CLI's
client, one request per command) opens a connection per request, which made the benchmark charge
every post a TCP handshake, a connection task and a close on the node."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from node.config import NodeConfig, read_secret
from node.errors import ApiError

#: A connection idle this long is replaced before use: the node closes idle ones after 10 s.
IDLE_S = 5.0


class KeptAlivePoster:
    """POSTs to one node's API on one HTTP/1.1 connection, from one thread at a time."""

    def __init__(self, config: NodeConfig) -> None:
        url = urlsplit(config.api_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        token = read_secret(config.token_path).strip().decode()
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._conn: http.client.HTTPConnection | None = None
        self._used = 0.0

    def post(self, path: str, body: dict[str, Any]) -> Any:
        if self._conn is None or time.monotonic() - self._used > IDLE_S:
            self.close()
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
        try:
            self._conn.request("POST", path, body=json.dumps(body).encode(), headers=self._headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ApiError(f"POST {path} to {self._host}:{self._port} failed: {exc!r}") from None
        self._used = time.monotonic()
        if response.status >= 300:
            raise ApiError(f"POST {path}: {response.status} {data[:200]!r}", response.status)
        return json.loads(data)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
