"""The route table: it lists what openapi.json documents, and the router authenticates,
dispatches and refuses the way the API always has."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

import pytest
import trio

from node.api.app import build_api
from node.api.http import Head, HttpError, Request, Response
from node.api.params import Fields, Integer
from node.api.router import MAX_JSON_BODY, Call, Route, Router, Takes
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
            Route("POST", "/v1/things", echo, Takes.JSON, fields=Fields(Integer("a", minimum=0, maximum=9))),
            Route("POST", "/v1/strict", echo, Takes.JSON_REQUIRED),
            Route("POST", "/v1/raw", echo, Takes.RAW),
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
    assert _answer(router, _request("POST", "/v1/things")).body["data"] == {"a": None}
    assert _refusal(router, _request("POST", "/v1/things", b"[1]")).message == "the request body must be a JSON object"
    broken = _refusal(router, _request("POST", "/v1/things", b"{"))
    assert broken.message.startswith("the request body is not valid JSON")
    assert _refusal(router, _request("POST", "/v1/things", b'{"b": 1}')).message == ("unknown field 'b' (this takes a)")
    assert _refusal(router, _request("POST", "/v1/things", b'{"a": true}')).message == "a must be an integer in 0..9"
    empty = _refusal(router, _request("POST", "/v1/strict"))
    assert (empty.status, empty.message) == (400, "the request body must be a JSON object")


def test_a_route_is_declared_once() -> None:
    async def nothing(call: Call) -> Response:
        return Response(200, {})

    with pytest.raises(ValueError, match="declared twice"):
        Router([Route("GET", "/a", nothing), Route("GET", "/a", nothing)], TOKEN)


def test_api_refusals_are_node_errors() -> None:
    assert issubclass(HttpError, NodeError)


def _head(method: str, path: str, headers: dict[str, str] | None = None) -> Head:
    return Head(method, path, {}, AUTH if headers is None else headers)


def test_a_request_is_judged_from_its_head_before_its_body() -> None:
    router = _echo_router()
    for method, path in (("POST", "/v1/things"), ("POST", "/v1/nothing"), ("GET", "/v1/things/1")):
        assert _head_refusal(router, _head(method, path, headers={})).status == 401
    assert _head_refusal(router, _head("POST", "/v1/nothing")).status == 404
    assert _head_refusal(router, _head("PUT", "/v1/things")).status == 405
    # a body is allowed as large as the route reads, and none on a route without a token
    assert router.admit(_head("POST", "/v1/things")).max_body == MAX_JSON_BODY
    assert router.admit(_head("POST", "/v1/raw")).max_body == 2 * 1024 * 1024
    assert router.admit(_head("GET", "/open", headers={})).max_body == 0
    assert router.admit(_head("POST", "/v1/things")).authenticated
    assert not router.admit(_head("GET", "/open", headers={})).authenticated


def _head_refusal(router: Router, head: Head) -> HttpError:
    with pytest.raises(HttpError) as caught:
        router.admit(head)
    return caught.value


def _strip(schema: Any) -> Any:
    """A schema without its descriptions (the prose is the document's; the shape is the code's)."""
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def test_openapi_documents_every_field_and_query_parameter_the_routes_read() -> None:
    parts = {name: Mock() for name in ("rooms", "broadcast", "follow", "following", "status_extra", "peers")}
    paths = openapi_document()["paths"]
    for route in build_api(Mock(), TOKEN, **parts).routes:
        operation = paths[route.path][route.method.lower()]
        where = f"{route.method} {route.path}"
        documented_query = [_strip(p) for p in operation.get("parameters", []) if p["in"] == "query"]
        assert documented_query == route.query.parameters(), where
        if route.takes in {Takes.JSON, Takes.JSON_REQUIRED}:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert _strip(schema) == route.fields.body_schema(), where
        else:
            assert route.fields.fields == {}, where
