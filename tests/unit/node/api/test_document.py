"""The OpenAPI document is generated from the routes themselves: every route is in it with the
fields it reads and their limits, its refusals in the API's own shape, and its security."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

from fastapi.routing import APIRoute

from node.api.app import Api, build_api
from node.core import limits

PARTS = ("rooms", "broadcast", "follow", "following", "status_extra", "peers", "chain", "keystore")


def _api() -> Api:
    return build_api(Mock(), b"token", **{name: Mock() for name in PARTS})


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    found: dict[str, Any] = document["components"]["schemas"][ref.rpartition("/")[2]] if ref else schema
    return found


def test_every_route_is_documented_with_the_body_it_reads() -> None:
    api = _api()
    document = api.openapi()
    routes = [r for r in api.framework.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 25
    for route in routes:
        for method in route.methods or ():
            operation = document["paths"][route.path][method.lower()]
            where = f"{method} {route.path}"
            assert "422" not in operation["responses"], where
            assert operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
            body = route.body_field
            if body is not None:
                schema = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
                model = body.field_info.annotation
                assert set(schema["properties"]) == set(model.model_fields), where  # type: ignore[union-attr]
                assert schema["additionalProperties"] is False, where


def test_the_limits_of_the_wire_are_in_the_document() -> None:
    document = _api().openapi()
    post = _resolve(
        document, document["paths"]["/v1/posts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert post["required"] == ["text"]
    assert post["properties"]["text"]["maxLength"] == limits.MAX_TEXT_BYTES
    assert post["properties"]["attachments"]["maxItems"] == limits.MAX_ATTACHMENTS
    feed = {p["name"]: p for p in document["paths"]["/v1/feed"]["get"]["parameters"]}
    assert set(feed) == {"room", "limit", "before"}
    assert (feed["limit"]["schema"]["minimum"], feed["limit"]["schema"]["maximum"]) == (1, 200)
    upload = document["paths"]["/v1/blobs"]["post"]
    assert set(upload["requestBody"]["content"]) == set(limits.ATTACHMENT_TYPES)
    assert upload["x-kiez-max-body"] == limits.MAX_ATTACHMENT_BYTES


def test_only_the_page_and_its_login_go_without_the_token() -> None:
    document = _api().openapi()
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert document["security"] == [{"token": []}]
    public = {
        (path, method)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") == []
    }
    assert public == {(path, "get") for path in ("/app/", "/app/app.css", "/app/login")} | {
        (f"/app/{script}.js", "get")
        for script in ("app", "common", "gov", "node", "notices", "profile", "propose", "ranking", "rooms", "signing")
    }
    assert all("401" in document["paths"]["/v1/status"][m]["responses"] for m in document["paths"]["/v1/status"])
