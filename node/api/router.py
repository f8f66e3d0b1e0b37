"""The API as a table: each route says its method, path, handler and what body it takes.

One table is what the router dispatches on, what ``openapi.json`` is checked against (a unit test
compares the two), and what a reader scans to see the whole API. The router is the only place
that authenticates (constant-time token compare) and that answers 404 (no such path) and 405
(the path exists, not with that method), so every module words those the same way.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from node.api.http import HttpError, Request, Response
from node.api.params import json_object


class Takes(Enum):
    """What a route reads from the request body."""

    NOTHING = "nothing"  # the body is ignored
    JSON = "json"  # a JSON object; an empty body reads as {}
    JSON_REQUIRED = "json required"  # a JSON object; an empty body is a 400
    RAW = "raw"  # the bytes as they came (the handler reads request.body)


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: the path's ``{names}`` and the parsed body."""

    request: Request
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


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

    def __init__(self, routes: Iterable[Route], token: bytes) -> None:
        self.routes = tuple(routes)
        self._token = token
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            if (route.method, route.path) in seen:
                raise ValueError(f"route {route.method} {route.path} is declared twice")
            seen.add((route.method, route.path))

    async def handle(self, request: Request) -> Response:
        on_path = [(route, params) for route in self.routes if (params := route.match(request.path)) is not None]
        chosen = next(((route, params) for route, params in on_path if route.method == request.method), None)
        if chosen is None or chosen[0].token:
            self._authorise(request)
        if chosen is None:
            if on_path:
                raise HttpError(405, f"{request.method} is not allowed on {request.path}")
            raise HttpError(404, f"no such endpoint: {request.path} (see /openapi.json)")
        route, params = chosen
        return await route.handler(Call(request, params, _data(route.takes, request)))

    def _authorise(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self._token):
            raise HttpError(401, "missing or wrong API token (Authorization: Bearer <$KIEZ_HOME/api_token>)")


def _data(takes: Takes, request: Request) -> dict[str, Any]:
    if takes is Takes.JSON or (takes is Takes.JSON_REQUIRED and request.body):
        return json_object(request)
    if takes is Takes.JSON_REQUIRED:
        raise HttpError(400, "the request body must be a JSON object")
    return {}
