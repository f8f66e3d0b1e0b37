"""The API as a table: each route says its method, path, handler and what body it takes.

One table is what the router dispatches on, what ``openapi.json`` is checked against (a unit test
compares the two, fields and query parameters included), and what a reader scans to see the whole
API. The router is the only place that authenticates (constant-time token compare, or the web app's
session cookie under the rules of ``node.api.session``), that answers
404 (no such path) and 405 (the path exists, not with that method), and that reads a route's
declared fields (``node/api/params.py``), so every module words those the same way. It judges a
request from its head first (``admit``): the server reads no body before the token is checked.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from node.api.connections import Connections
from node.api.http import Admission, Head, HttpError, Request, Response
from node.api.params import NO_FIELDS, Fields, json_object
from node.api.session import Sessions, cookie_of, page_request_problem
from node.core import limits

#: The largest JSON body a route takes. The largest real one is a post: 8,000 bytes of text, which
#: JSON's escapes (\u0000 for a control character) make at most six times longer, and some fields.
MAX_JSON_BODY = 64 * 1024


class Takes(Enum):
    """What a route reads from the request body."""

    NOTHING = "nothing"  # the body is ignored
    JSON = "json"  # a JSON object; an empty body reads as {}
    JSON_REQUIRED = "json required"  # a JSON object; an empty body is a 400
    RAW = "raw"  # the bytes as they came (the handler reads request.body)


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: the path's ``{names}``, and the body's fields and the
    query's parameters read as the route declares them (every declared name present)."""

    request: Request
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    method: str
    #: A path, where ``{name}`` stands for one segment (passed to the handler in ``Call.params``).
    path: str
    handler: Handler
    takes: Takes = Takes.NOTHING
    #: False only for what anyone on the machine may read (the API's own description).
    token: bool = True
    #: The fields a JSON body may hold, and the query parameters.
    fields: Fields = NO_FIELDS
    query: Fields = NO_FIELDS

    @property
    def max_body(self) -> int:
        """The largest body this route reads: an attachment, a JSON object, or none without a token."""
        if not self.token:
            return 0
        return limits.MAX_ATTACHMENT_BYTES if self.takes is Takes.RAW else MAX_JSON_BODY

    def match(self, path: str) -> dict[str, str] | None:
        """The ``{name}`` segments of ``path`` if it has this route's shape, else None."""
        wanted, given = self.path.split("/"), path.split("/")
        if len(wanted) != len(given):
            return None
        params: dict[str, str] = {}
        for pattern, segment in zip(wanted, given, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                params[pattern[1:-1]] = segment
            elif pattern != segment:
                return None
        return params


class Router:
    """Dispatches a request to the first route of its path and method, in declaration order."""

    def __init__(
        self,
        routes: Iterable[Route],
        token: bytes,
        connections: Connections | None = None,
        sessions: Sessions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.routes = tuple(routes)
        self._token = token
        #: The web app's sessions: a request may carry one instead of the token (``node.api.session``).
        self.sessions = sessions
        self._clock = clock
        #: The server's connections (``node.api.http.serve`` counts them here for the status).
        self.connections = connections or Connections()
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            if (route.method, route.path) in seen:
                raise ValueError(f"route {route.method} {route.path} is declared twice")
            seen.add((route.method, route.path))

    def admit(self, head: Head) -> Admission:
        """Judges a request by its head: 401, 404 or 405 before its body is read."""
        route, _ = self._choose(head)
        return Admission(route.max_body, authenticated=route.token)

    async def handle(self, request: Request) -> Response:
        route, params = self._choose(request)
        data = route.fields.read(_data(route.takes, request)) if route.takes is not Takes.RAW else {}
        query = route.query.read(request.query, query=True)
        return await route.handler(Call(request, params, data, query))

    def _choose(self, request: Head | Request) -> tuple[Route, dict[str, str]]:
        on_path = [(route, params) for route in self.routes if (params := route.match(request.path)) is not None]
        chosen = next(((route, params) for route, params in on_path if route.method == request.method), None)
        if chosen is None or chosen[0].token:
            self._authorise(request)
        if chosen is None:
            if on_path:
                raise HttpError(405, f"{request.method} is not allowed on {request.path}")
            raise HttpError(404, f"no such endpoint: {request.path} (see /openapi.json)")
        return chosen

    def _authorise(self, request: Head) -> None:
        """The token, or a live web session whose request the page itself made."""
        headers = request.headers
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token):
            return
        session = cookie_of(headers)
        if session is not None and self.sessions is not None and self.sessions.touch(session, self._clock()):
            problem = page_request_problem(request.method, headers, frozenset({f"http://{headers.get('host', '')}"}))
            if problem is not None:
                raise HttpError(403, problem)
            return
        raise HttpError(
            401,
            "missing or wrong API token (Authorization: Bearer <$KIEZ_HOME/api_token>), "
            "or no web session (run kiez open)",
        )


def _data(takes: Takes, request: Request) -> dict[str, Any]:
    if takes is Takes.JSON or (takes is Takes.JSON_REQUIRED and request.body):
        return json_object(request)
    if takes is Takes.JSON_REQUIRED:
        raise HttpError(400, "the request body must be a JSON object")
    return {}
