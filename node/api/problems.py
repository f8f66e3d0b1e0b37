"""How the API answers: JSON bodies, and every refusal as ``{"error": "one sentence"}``.

A handler raises ``HttpError``; the framework's own refusals (a body that is no JSON object, a
field of the wrong type, an unknown field) are turned into the same shape here, each naming the
field the way the CLI repeats it ("limit must be an integer in 1..200"). Nothing of a handler's
failure reaches the client beyond a plain 500: the traceback goes to the node's log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from node.errors import NodeError

log = logging.getLogger(__name__)

#: The error type of a field's refusal (``node.api.fields.Refused``), whose message is what the field must be.
REFUSED = "kiez_refused"
#: Headers every answer carries: nothing is cached, nothing is sniffed into another type.
COMMON_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


class HttpError(NodeError):
    """A request the API refuses; it is answered ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Json(Response):
    """A JSON answer, UTF-8 as it is (not \\u-escaped), one line."""

    media_type = "application/json; charset=utf-8"

    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(content, status_code, {**COMMON_HEADERS, **(headers or {})})

    def render(self, content: Any) -> bytes:
        return (json.dumps(content, ensure_ascii=False) + "\n").encode()


def refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Json:
    return Json({"error": message}, status, headers)


def validation_message(errors: Sequence[Any], fields: Sequence[str] = ()) -> str:
    """The first of pydantic's errors as one sentence naming the field (``fields``: what the body takes)."""
    error = errors[0]
    place, *path = error.get("loc", ()) or ("body",)
    name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
    kind = error.get("type", "")
    if not name:
        if isinstance(error.get("input"), bytes | bytearray):  # not parsed: the type did not say JSON
            return "the request body must be a JSON object, sent with Content-Type: application/json"
        return "the request body must be a JSON object"
    if kind == REFUSED:
        return f"{name} must be {error['msg']}"
    if kind == "missing":
        return f"{name} is required"
    if kind == "extra_forbidden":
        what = "parameter" if place == "query" else "field"
        return f"unknown {what} {name!r} (this takes {', '.join(fields) or 'nothing'})"
    return f"{name}: {error.get('msg', 'not taken')}"


def install(app: FastAPI) -> None:
    """Answers every refusal of ``app`` in the API's one shape."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HttpError)
        return refusal(exc.status, exc.message)

    async def framework_refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return refusal(exc.status_code, str(exc.detail))

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return refusal(400, validation_message(exc.errors(), _fields_of(request, exc)))

    async def failed(request: Request, exc: Exception) -> Response:
        log.error("API handler failed for %s %s", request.method, request.url.path, exc_info=exc)
        return refusal(500, "internal error; see the node's log")

    app.add_exception_handler(HttpError, http_error)
    app.add_exception_handler(HTTPException, framework_refusal)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, failed)


def _fields_of(request: Request, exc: RequestValidationError) -> list[str]:
    """The names the refused part (body or query) takes, read from the route's own models."""
    route = request.scope.get("route")
    errors = exc.errors()
    place = errors[0].get("loc", ("body",))[0] if errors else "body"
    dependant = getattr(route, "dependant", None)
    params = getattr(dependant, "body_params" if place == "body" else "query_params", [])
    names: list[str] = []
    for param in params:
        model = getattr(param.field_info, "annotation", None)
        fields = getattr(model, "model_fields", None)
        names.extend(fields if fields is not None else [param.alias])
    return names
