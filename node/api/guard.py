"""The API's door: every request is judged from its head before the framework reads its body.

Anyone on the machine can connect to the API; only the member has the token (or a web session
that ``kiez open`` started). So before the app sees a request this middleware checks, in order:
the query string (UTF-8, few parameters, none twice), the Host header (a rebound DNS name is
refused), the token or session (a cookie-borne request must also be the page's own, see
``node.api.session``), then whether the path and method exist (never revealed before the token),
and the body's declared size against the route's limit. A refused request is answered and its
connection closed with the body unread; an admitted body is counted as it is read and cut off
with a 413 past the limit. Keep-alive is for the member: an answer without the token closes.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.api.connections import Connections
from node.api.problems import HttpError, refusal
from node.api.session import Sessions, cookie_of, page_request_problem

log = logging.getLogger(__name__)

#: The largest JSON body a route takes. The largest real one is a post: 8,000 bytes of text, which
#: JSON's escapes (\u0000 for a control character) make at most six times longer, and some fields.
MAX_JSON_BODY = 64 * 1024
#: A route's OpenAPI extension naming the largest body it reads, where that is not ``MAX_JSON_BODY``.
MAX_BODY_KEY = "x-kiez-max-body"
#: The request line and headers; a longer head is refused (431) before anything else. The server
#: reads at most this much of an unfinished head; a head that came whole in one read is measured here.
MAX_HEAD = 16 * 1024
#: Query parameters a request may carry (no route takes more than a few).
MAX_QUERY_FIELDS = 16
#: The OpenAPI security requirement of a route anyone may call (the page's files, its login).
PUBLIC: dict[str, Any] = {"security": []}


class BodyTooLarge(HTTPException):
    """Raised into the app's ``receive`` when an admitted body grows past its route's limit (the
    framework passes an ``HTTPException`` through as it is, and answers it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")


@dataclass(frozen=True)
class Admitted:
    """A head the guard let through: the largest body it may send, and whether it is the member's."""

    max_body: int
    member: bool


class Guard:
    """ASGI middleware around the node's app (``routes`` are the app's, matched here first)."""

    def __init__(
        self,
        app: ASGIApp,
        routes: list[BaseRoute],
        token: bytes,
        sessions: Sessions,
        connections: Connections,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.routes = routes
        self._token = token
        self.sessions = sessions
        self.connections = connections
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan, no websockets: the node starts and stops the server itself
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) + len(scope["raw_path"]) > MAX_HEAD:
                raise HttpError(431, f"the request's head is over {MAX_HEAD} bytes")
            admitted = self.admit(scope, headers)
        except HttpError as exc:
            self.connections.refuse(str(exc.status))
            await refusal(exc.status, exc.message, {"connection": "close"})(scope, receive, send)
            return
        peer = _peer(scope)
        self.connections.protect(peer, admitted.member)
        try:
            await self._serve(scope, receive, send, admitted)
        finally:
            self.connections.protect(peer, False)

    def admit(self, scope: Scope, headers: dict[str, str]) -> Admitted:
        """Judges a request by its head alone; raises ``HttpError`` to refuse it unread."""
        _check_query(scope.get("query_string", b""))
        port = (scope.get("server") or ("", 0))[1]
        hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        if headers.get("host", "").lower() not in hosts:
            raise HttpError(400, f"the Host header must be one of {', '.join(sorted(hosts))}")
        route, exists = self._choose(scope)
        public = route is not None and _is_public(route)
        if not public:
            self._authorise(scope["method"], headers)
        if route is None:
            if exists:
                raise HttpError(405, f"{scope['method']} is not allowed on {scope['path']}")
            raise HttpError(404, f"no such endpoint: {scope['path']} (see /openapi.json)")
        max_body = 0 if public else _max_body(route)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            raise HttpError(413, f"the request body is over {max_body} bytes")
        return Admitted(max_body, member=not public)

    def _choose(self, scope: Scope) -> tuple[BaseRoute | None, bool]:
        """The route of this path and method, and whether the path exists with another method."""
        exists = False
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route, True
            exists = exists or match is Match.PARTIAL
        return None, exists

    def _authorise(self, method: str, headers: dict[str, str]) -> None:
        """The token, or a live web session whose request the page itself made."""
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token):
            return
        session = cookie_of(headers)
        if session is not None and self.sessions.touch(session, self._clock()):
            problem = page_request_problem(method, headers, frozenset({f"http://{headers.get('host', '')}"}))
            if problem is not None:
                raise HttpError(403, problem)
            return
        raise HttpError(
            401,
            "missing or wrong API token (Authorization: Bearer <$KIEZ_HOME/api_token>), "
            "or no web session (run kiez open)",
        )

    async def _serve(self, scope: Scope, receive: Receive, send: Send, admitted: Admitted) -> None:
        peer = _peer(scope)
        read = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                self.connections.hold(peer, read)
                if read > admitted.max_body:
                    self.connections.refuse("413")
                    raise BodyTooLarge(admitted.max_body)
            return message

        async def marked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not admitted.member:  # keep-alive is for the member
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counted_receive, marked_send)
        except BodyTooLarge as exc:
            if not started:
                await refusal(413, exc.detail, {"connection": "close"})(scope, receive, send)
        except Exception:
            # the framework answered it already (a plain 500) and logged it; it ends here
            if not started:
                log.exception("API request failed before an answer")
                await refusal(500, "internal error; see the node's log")(scope, receive, send)


def _check_query(raw: bytes) -> None:
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=MAX_QUERY_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, f"the query string is not UTF-8 or has over {MAX_QUERY_FIELDS} parameters") from None
    if len({name for name, _ in pairs}) != len(pairs):
        raise HttpError(400, "a query parameter is given twice")


def _is_public(route: BaseRoute) -> bool:
    """A route anyone may call: declared so in its OpenAPI security, or the document itself."""
    extra = getattr(route, "openapi_extra", None)
    if extra is None:
        return not hasattr(route, "dependant")  # not an API route: the framework's /openapi.json
    return bool(extra.get("security") == [])


def _max_body(route: BaseRoute) -> int:
    extra = getattr(route, "openapi_extra", None) or {}
    return int(extra.get(MAX_BODY_KEY, MAX_JSON_BODY))


def _peer(scope: Scope) -> tuple[str, int]:
    client = scope.get("client") or ("", 0)
    return str(client[0]), int(client[1])
