"""The guard judges a request from its head: the query, the Host, the token or session, then
the route and the body's declared size, before the app reads a byte of the body."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
import trio
from fastapi import FastAPI, Request

from node.api.app import framework_app
from node.api.connections import Connections
from node.api.guard import MAX_BODY_KEY, MAX_HEAD, MAX_JSON_BODY, PUBLIC, Admitted, Guard
from node.api.problems import HttpError, Json
from node.api.session import Sessions
from node.errors import NodeError

TOKEN = b"secret-token"
PORT = 8731
HOST = f"127.0.0.1:{PORT}"
AUTH = {"authorization": f"Bearer {TOKEN.decode()}"}


def _app() -> FastAPI:
    app = framework_app()

    async def echo(id: str) -> Json:
        return Json({"id": id})

    async def raw(request: Request) -> Json:
        return Json({"size": len(await request.body())})

    async def public() -> Json:
        return Json({})

    app.router.add_api_route("/open", public, methods=["GET"], openapi_extra=PUBLIC)
    app.router.add_api_route("/v1/things/{id}", echo, methods=["GET"])
    app.router.add_api_route("/v1/things", public, methods=["POST"])
    app.router.add_api_route("/v1/raw", raw, methods=["POST"], openapi_extra={MAX_BODY_KEY: 2 * 1024 * 1024})
    return app


def _guard(sessions: Sessions | None = None) -> Guard:
    app = _app()
    return Guard(app, app.router.routes, TOKEN, sessions or Sessions(), Connections(), clock=lambda: 100.0)


def _scope(method: str, path: str, headers: dict[str, str], query: bytes = b"") -> dict[str, Any]:
    raw = [(k.encode(), v.encode()) for k, v in {"host": HOST, **headers}.items()]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": raw,
        "server": ("127.0.0.1", PORT),
        "client": ("127.0.0.1", 50000),
    }


def _admit(guard: Guard, method: str, path: str, headers: dict[str, str] | None = None, query: bytes = b"") -> Admitted:
    given = AUTH if headers is None else headers
    scope = _scope(method, path, given, query)
    return guard.admit(scope, {"host": HOST, **{k.lower(): v for k, v in given.items()}})


def _refused(guard: Guard, *args: Any, **kwargs: Any) -> HttpError:
    with pytest.raises(HttpError) as caught:
        _admit(guard, *args, **kwargs)
    return caught.value


def test_the_token_is_wanted_except_on_public_routes_and_nothing_is_revealed_before_it() -> None:
    guard = _guard()
    assert not _admit(guard, "GET", "/open", {}).member
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN.decode()}"}):
        refused = _refused(guard, "GET", "/v1/things/1", headers)
        assert refused.status == 401
        assert "missing or wrong API token" in refused.message
    # an unknown path or method is not revealed before the token is checked
    assert _refused(guard, "GET", "/v1/nothing", {}).status == 401
    assert _refused(guard, "POST", "/open", {}).status == 401
    assert _admit(guard, "GET", "/openapi.json", {}).max_body == 0  # the document is public


def test_404_and_405_are_said_in_words() -> None:
    guard = _guard()
    missing = _refused(guard, "GET", "/v1/nothing")
    assert (missing.status, missing.message) == (404, "no such endpoint: /v1/nothing (see /openapi.json)")
    wrong = _refused(guard, "DELETE", "/v1/things")
    assert (wrong.status, wrong.message) == (405, "DELETE is not allowed on /v1/things")
    assert _refused(guard, "HEAD", "/v1/things/1").status == 405  # no HEAD beside GET
    assert _refused(guard, "GET", "/v1/things/1/2").status == 404


def test_a_body_is_allowed_as_large_as_the_route_reads_and_none_without_a_token() -> None:
    guard = _guard()
    assert _admit(guard, "POST", "/v1/things").max_body == MAX_JSON_BODY
    assert _admit(guard, "POST", "/v1/raw").max_body == 2 * 1024 * 1024
    assert _admit(guard, "GET", "/open", {}).max_body == 0
    too_big = _refused(guard, "POST", "/v1/things", {**AUTH, "content-length": str(MAX_JSON_BODY + 1)})
    assert (too_big.status, too_big.message) == (413, f"the request body is over {MAX_JSON_BODY} bytes")
    assert _refused(guard, "POST", "/v1/things", {**AUTH, "content-length": "-1"}).status == 413


def test_another_host_and_a_hostile_query_are_refused() -> None:
    guard = _guard()
    rebound = _refused(guard, "GET", "/v1/things/1", {**AUTH, "host": "attacker.example:8731"})
    assert (rebound.status, rebound.message.startswith("the Host header must be one of")) == (400, True)
    for query, words in (
        (b"a=1&a=2", "given twice"),
        (b"room=%ff", "UTF-8"),
        (b"&".join([b"a%d=1" % i for i in range(20)]), "over 16"),
    ):
        refused = _refused(guard, "GET", "/v1/things/1", query=query)
        assert refused.status == 400
        assert words in refused.message


def test_a_live_session_is_taken_under_the_page_rule() -> None:
    sessions = Sessions()
    session = sessions.redeem(sessions.mint_code(99.0), 99.0)
    guard = _guard(sessions)
    cookie = {"cookie": f"kiez_session_{PORT}={session}"}

    def status(method: str, path: str, headers: dict[str, str]) -> int:
        try:
            _admit(guard, method, path, headers)
        except HttpError as refused:
            return refused.status
        return 200

    assert status("GET", "/v1/things/1", cookie) == 200
    assert status("POST", "/v1/things", cookie) == 403  # no page header: another site's form
    assert status("POST", "/v1/things", {**cookie, "x-kiez-page": "1"}) == 200
    assert status("POST", "/v1/things", {**cookie, "x-kiez-page": "1", "origin": "http://evil.example"}) == 403
    assert status("GET", "/v1/things/1", {"cookie": f"kiez_session_{PORT}=forged"}) == 401
    assert status("POST", "/v1/things", AUTH) == 200  # scripts keep the token


async def _exchange(
    guard: Guard, scope: dict[str, Any], body: bytes, chunks: int = 1
) -> tuple[int, dict[str, str], bytes]:
    """One request through the guard and the app, as a server would pass it."""
    parts = [body[i * len(body) // chunks : (i + 1) * len(body) // chunks] for i in range(chunks)]
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > len(parts):
            await trio.sleep_forever()
        return {"type": "http.request", "body": parts[read - 1], "more_body": read < len(parts)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await guard(scope, receive, send)
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_an_answer_without_the_token_closes_and_a_body_past_the_limit_is_cut_off() -> None:
    guard = _guard()

    async def run() -> None:
        status, headers, _ = await _exchange(guard, _scope("GET", "/open", {}), b"")
        assert (status, headers.get("connection")) == (200, "close")
        status, headers, _ = await _exchange(guard, _scope("GET", "/v1/things/7", AUTH), b"")
        assert (status, "connection" in headers) == (200, False)  # the member's connection stays
        # a chunked body (no content-length) is refused as soon as it passes the route's limit
        status, _, body = await _exchange(guard, _scope("POST", "/v1/raw", AUTH), b"x" * (2 * 1024 * 1024 + 10), 4)
        assert status == 413
        assert b"over 2097152 bytes" in body
        status, _, body = await _exchange(guard, _scope("GET", "/v1/nothing", {}), b"")
        assert (status, body) == (401, body)

    trio.run(run)
    assert guard.connections.refused == {"401": 1, "413": 1}
    assert MAX_HEAD == 16 * 1024


def test_api_refusals_are_node_errors() -> None:
    assert issubclass(HttpError, NodeError)
