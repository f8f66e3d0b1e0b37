"""The web app's door: ``kiez open`` asks for a login URL, the browser trades its one-time code
for a session cookie, and the page's own files are served from the package.

The page is static (``node/api/webapp/``: HTML, one script, one style sheet, no third-party code
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

from node.api.http import HttpError, Response
from node.api.params import Fields, Text
from node.api.router import Call, Route
from node.api.session import CODE_TTL_S, Sessions, set_cookie

#: The page's files, by the path they are served at, with their type.
FILES = {
    "/app/": ("index.html", "text/html; charset=utf-8"),
    "/app/app.js": ("app.js", "text/javascript; charset=utf-8"),
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
LOGIN_QUERY = Fields(Text("code", required=True, max_bytes=128))


@dataclass
class Web:
    sessions: Sessions
    clock: Callable[[], float] = field(default=time.monotonic)

    def routes(self) -> list[Route]:
        files = [Route("GET", path, self.page_file, token=False) for path in FILES]
        return [
            Route("POST", "/v1/web/login", self.login_url),
            Route("GET", "/app/login", self.log_in, token=False, query=LOGIN_QUERY),
            *files,
        ]

    async def login_url(self, call: Call) -> Response:
        """A one-time URL that logs a browser in (what ``kiez open`` prints)."""
        code = self.sessions.mint_code(self.clock())
        host = call.request.headers.get("host", "127.0.0.1")
        return Response(201, {"url": f"http://{host}/app/login?code={code}", "expires_in_s": int(CODE_TTL_S)})

    async def log_in(self, call: Call) -> Response:
        session = self.sessions.redeem(call.query["code"], self.clock())
        if session is None:
            raise HttpError(403, "this login link was used already or has expired: run kiez open for a new one")
        cookie = set_cookie(call.request.headers.get("host", ""), session)
        headers = {"location": "/app/", "set-cookie": cookie, "content-type": "text/plain"}
        return Response(303, b"logged in\n", headers, raw=True)

    async def page_file(self, call: Call) -> Response:
        name, kind = FILES[call.request.path]
        return Response(200, _read(name), {"content-type": kind, **PAGE_HEADERS}, raw=True)


@cache
def _read(name: str) -> bytes:
    return resources.files("node.api").joinpath("webapp", name).read_bytes()
