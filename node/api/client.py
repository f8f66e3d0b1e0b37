"""The CLI's side of the local API: small JSON requests with the node's token (stdlib HTTP).

Answers are parsed with ``node.core.jsontext``, like every JSON from outside: whatever listens on
the configured port, a deep or broken answer is an ``ApiError``, never a crash."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from node.config import NodeConfig, read_secret
from node.core.jsontext import BadJson, parse
from node.errors import ApiError


class ApiClient:
    def __init__(self, base_url: str, token: bytes, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def for_node(cls, config: NodeConfig) -> ApiClient:
        return cls(config.api_url, read_secret(config.token_path).strip())

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        return self._parse(self._send(method, path, data, "application/json")[1] or b"null")

    def upload(self, data: bytes, mime: str) -> Any:
        """Uploads an attachment's bytes (POST /v1/blobs); returns its hash, size and type."""
        return self._parse(self._send("POST", "/v1/blobs", data, mime)[1])

    def _parse(self, answer: bytes) -> Any:
        try:
            return parse(answer)
        except BadJson as exc:
            raise ApiError(f"the node's API at {self.base_url} answered with {exc}") from None

    def download(self, sha256: str) -> tuple[str, bytes]:
        """An attachment's type and bytes, as this node holds them."""
        return self._send("GET", f"/v1/blobs/{sha256}", None, "application/json")

    def _send(self, method: str, path: str, data: bytes | None, content_type: str) -> tuple[str, bytes]:
        request = urllib.request.Request(  # noqa: S310 - the URL is the node's own loopback API
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token.decode()}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return str(response.headers.get("content-type", "")), bytes(response.read())
        except urllib.error.HTTPError as exc:
            try:
                message = parse(exc.read()).get("error", exc.reason)
            except (BadJson, AttributeError, http.client.HTTPException, OSError):
                message = exc.reason
            raise ApiError(str(message), exc.code) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise ApiError(
                f"the node's API at {self.base_url} does not answer ({exc}); is `kiez node run` running?"
            ) from None
        except http.client.HTTPException as exc:
            # the node stopped in the middle of its answer: whatever was asked may or may not be done
            raise ApiError(
                f"the node's API at {self.base_url} broke off its answer ({type(exc).__name__}); "
                "check with `kiez feed` whether it was done"
            ) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def changes(self) -> Iterator[str]:
        """The node's ``GET /v1/stream``: yields each event's name (``change`` when something
        changed, ``tick`` every 15 s) until the stream breaks, which is an ``ApiError``."""
        request = urllib.request.Request(  # noqa: S310 - the URL is the node's own loopback API
            self.base_url + "/v1/stream", headers={"Authorization": f"Bearer {self.token.decode()}"}
        )
        try:
            # a tick comes every 15 s: three missed mean the node is gone
            with urllib.request.urlopen(request, timeout=45) as response:  # noqa: S310
                for raw in response:
                    line = raw.decode("utf-8", "replace").strip()
                    if line.startswith("event:"):
                        yield line.removeprefix("event:").strip()
        except urllib.error.HTTPError as exc:
            raise ApiError(f"the node refused its change stream ({exc.code} {exc.reason})", exc.code) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException) as exc:
            raise ApiError(f"the node's change stream at {self.base_url} broke off ({exc})") from None
        raise ApiError(f"the node at {self.base_url} closed its change stream; is it still running?")

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, body)
