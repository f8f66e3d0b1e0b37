"""The route table: it lists what openapi.json documents, and the router authenticates,
dispatches and refuses the way the API always has."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

import pytest
import trio

from node.api.app import build_api
from node.api.http import HttpError, Request, Response
from node.api.router import Call, Route, Router, Takes
from node.api.status import openapi_document
from node.errors import NodeError

TOKEN = b"secret-token"
AUTH = {"authorization": f"Bearer {TOKEN.decode()}"}


def test_the_route_table_and_openapi_list_the_same_routes() -> None:
    parts = {name: Mock() for name in ("rooms", "broadcast", "follow", "following", "status_extra", "peers")}
    router = build_api(Mock(), TOKEN, **parts)
    table = {(route.method, route.path) for route in router.routes}
    documented = {
        (method.upper(), path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert table == documented


def _request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Request:
    return Request(method, path, {}, AUTH if headers is None else headers, body)


def _answer(router: Router, request: Request) -> Response:
    async def run() -> Response:
        return await router.handle(request)

    return trio.run(run)


def _refusal(router: Router, request: Request) -> HttpError:
    with pytest.raises(HttpError) as caught:
        _answer(router, request)
    return caught.value


def _echo_router() -> Router:
    async def echo(call: Call) -> Response:
        return Response(200, {"params": call.params, "data": call.data})

    return Router(
        [
            Route("GET", "/open", echo, token=False),
            Route("GET", "/v1/things/{id}", echo),
            Route("POST", "/v1/things", echo, Takes.JSON),
            Route("POST", "/v1/strict", echo, Takes.JSON_REQUIRED),
        ],
        TOKEN,
    )


def test_the_router_wants_the_token_except_on_public_routes() -> None:
    router = _echo_router()
    assert _answer(router, _request("GET", "/open", headers={})).status == 200
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN.decode()}"}):
        refused = _refusal(router, _request("GET", "/v1/things/1", headers=headers))
        assert refused.status == 401
        assert "missing or wrong API token" in refused.message
    # an unknown path or method is not revealed before the token is checked
    assert _refusal(router, _request("GET", "/v1/nothing", headers={})).status == 401
    assert _refusal(router, _request("POST", "/open", headers={})).status == 401


def test_the_router_answers_404_and_405_as_before() -> None:
    router = _echo_router()
    missing = _refusal(router, _request("GET", "/v1/nothing"))
    assert (missing.status, missing.message) == (404, "no such endpoint: /v1/nothing (see /openapi.json)")
    wrong = _refusal(router, _request("DELETE", "/v1/things"))
    assert (wrong.status, wrong.message) == (405, "DELETE is not allowed on /v1/things")
    assert _refusal(router, _request("GET", "/v1/things/1/2")).status == 404


def test_path_names_and_bodies_reach_the_handler() -> None:
    router = _echo_router()
    body: Any = _answer(router, _request("GET", "/v1/things/abc")).body
    assert body == {"params": {"id": "abc"}, "data": {}}
    assert _answer(router, _request("POST", "/v1/things", b'{"a": 1}')).body["data"] == {"a": 1}
    assert _answer(router, _request("POST", "/v1/things")).body["data"] == {}
    assert _refusal(router, _request("POST", "/v1/things", b"[1]")).message == "the request body must be a JSON object"
    assert _refusal(router, _request("POST", "/v1/things", b"{")).message.startswith("the request body is not JSON")
    empty = _refusal(router, _request("POST", "/v1/strict"))
    assert (empty.status, empty.message) == (400, "the request body must be a JSON object")


def test_a_route_is_declared_once() -> None:
    async def nothing(call: Call) -> Response:
        return Response(200, {})

    with pytest.raises(ValueError, match="declared twice"):
        Router([Route("GET", "/a", nothing), Route("GET", "/a", nothing)], TOKEN)


def test_api_refusals_are_node_errors() -> None:
    assert issubclass(HttpError, NodeError)
