"""The web app's door: ``kiez open`` asks for a login URL, the browser trades its one-time code
for a session cookie, and the page's own files are served from the package.

The page is static (``node/api/webapp/``: HTML, its ES modules, one style sheet, no third-party code
and no build step); everything it shows it asks the API for, with the session cookie, like any
client. Its files carry a Content-Security-Policy that allows only this origin's own script, no
inline script, no framing, and connections to this node only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Query as InQuery
from starlette.responses import Response

from node.api.fields import Query, Text
from node.api.guard import PUBLIC
from node.api.problems import COMMON_HEADERS, HttpError, Json
from node.api.session import CODE_TTL_S, Sessions, set_cookie

#: The page's files, by the path they are served at, with their type.
FILES = {
    "/app/": ("index.html", "text/html; charset=utf-8"),
    "/app/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app/common.js": ("common.js", "text/javascript; charset=utf-8"),
    "/app/gov.js": ("gov.js", "text/javascript; charset=utf-8"),
    "/app/rooms.js": ("rooms.js", "text/javascript; charset=utf-8"),
    "/app/node.js": ("node.js", "text/javascript; charset=utf-8"),
    "/app/profile.js": ("profile.js", "text/javascript; charset=utf-8"),
    "/app/notices.js": ("notices.js", "text/javascript; charset=utf-8"),
    "/app/propose.js": ("propose.js", "text/javascript; charset=utf-8"),
    "/app/ranking.js": ("ranking.js", "text/javascript; charset=utf-8"),
    "/app/signing.js": ("signing.js", "text/javascript; charset=utf-8"),
    "/app/app.css": ("app.css", "text/css; charset=utf-8"),
}
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


class LoginQuery(Query):
    code: Annotated[str, Text(128)]


@dataclass
class Web:
    sessions: Sessions
    clock: Callable[[], float] = field(default=time.monotonic)

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/web/login", self.login_url, methods=["POST"], status_code=201)
        api.add_api_route(
            "/app/login", self.log_in, methods=["GET"], status_code=303, response_class=Response, openapi_extra=PUBLIC
        )
        for path in FILES:
            api.add_api_route(
                path, self.page_file, methods=["GET"], response_class=Response, openapi_extra=PUBLIC, name=path
            )

    async def login_url(self, request: Request) -> Json:
        """A one-time URL that logs a browser in (what ``kiez open`` prints)."""
        code = self.sessions.mint_code(self.clock())
        host = request.headers.get("host", "127.0.0.1")
        return Json({"url": f"http://{host}/app/login?code={code}", "expires_in_s": int(CODE_TTL_S)}, 201)

    async def log_in(self, request: Request, query: Annotated[LoginQuery, InQuery()]) -> Response:
        """Trades a login URL's one-time code for a session cookie."""
        session = self.sessions.redeem(query.code, self.clock())
        if session is None:
            raise HttpError(403, "this login link was used already or has expired: run kiez open for a new one")
        cookie = set_cookie(request.headers.get("host", ""), session)
        headers = {**COMMON_HEADERS, "location": "/app/", "set-cookie": cookie, "content-type": "text/plain"}
        return Response(b"logged in\n", 303, headers)

    async def page_file(self, request: Request) -> Response:
        """One of the page's own files."""
        name, kind = FILES[request.url.path]
        return Response(_read(name), 200, {**COMMON_HEADERS, "content-type": kind, **PAGE_HEADERS})


@cache
def _read(name: str) -> bytes:
    return resources.files("node.api").joinpath("webapp", name).read_bytes()
