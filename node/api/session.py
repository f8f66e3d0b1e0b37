"""The web app's login: one-time codes that ``kiez open`` prints in a URL, exchanged for a session
cookie, and the rule a cookie-borne request must meet.

Only someone who can read the API token (the member, on their own machine) can ask for a code;
a code works once and for ``CODE_TTL_S``; the session lives in memory (a restart logs the page
out) in an HttpOnly, SameSite=Strict cookie that page scripts cannot read. A request carried by
the cookie must also name itself with the ``X-Kiez-Page`` header, which a page from another
origin cannot add without a CORS preflight this API never grants, and, where the browser says
where it comes from (``Origin``), come from this node's own origin. No I/O here: the router asks.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

#: A login code's lifetime: long enough to click the printed URL.
CODE_TTL_S = 120.0
#: A session's lifetime without use.
SESSION_IDLE_S = 12 * 3600.0
#: Sessions kept at once (the oldest is logged out first): one member, a few browsers.
MAX_SESSIONS = 16
#: Codes waiting to be used at once.
MAX_CODES = 16
#: The cookie's name is this and the node's port: browsers share a host's cookies across ports,
#: and a devnet member may open alice's and bob's pages side by side on 127.0.0.1.
COOKIE = "kiez_session"
#: The header every request of the page carries (its value is not checked: its presence is).
PAGE_HEADER = "x-kiez-page"
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class Sessions:
    """One node's login codes and sessions, by expiry."""

    _codes: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _sessions: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def mint_code(self, now: float) -> str:
        """A new one-time login code."""
        self._expire(now)
        code = secrets.token_urlsafe(32)
        self._codes[code] = now + CODE_TTL_S
        while len(self._codes) > MAX_CODES:
            self._codes.popitem(last=False)
        return code

    def redeem(self, code: str, now: float) -> str | None:
        """The new session's id for a valid code (which is then used up), else None."""
        self._expire(now)
        found = next((c for c in self._codes if hmac.compare_digest(c, code)), None)
        if found is None:
            return None
        del self._codes[found]
        session = secrets.token_urlsafe(32)
        self._sessions[session] = now + SESSION_IDLE_S
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def touch(self, session: str, now: float) -> bool:
        """Whether ``session`` is live; a live one is kept for another ``SESSION_IDLE_S``."""
        self._expire(now)
        found = next((s for s in self._sessions if hmac.compare_digest(s, session)), None)
        if found is None:
            return False
        self._sessions[found] = now + SESSION_IDLE_S
        self._sessions.move_to_end(found)
        return True

    def _expire(self, now: float) -> None:
        for table in (self._codes, self._sessions):
            for key in [k for k, until in table.items() if until <= now]:
                del table[key]


def cookie_name(host: str) -> str:
    """The session cookie's name for a request to ``host`` (``127.0.0.1:8731`` → ``kiez_session_8731``)."""
    port = host.rpartition(":")[2]
    return f"{COOKIE}_{port}" if port.isdigit() else COOKIE


def cookie_of(headers: dict[str, str]) -> str | None:
    """The session cookie's value in a request's ``Cookie`` header, if any."""
    wanted = cookie_name(headers.get("host", ""))
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == wanted and value:
            return value
    return None


def set_cookie(host: str, session: str) -> str:
    """The ``Set-Cookie`` value that gives the browser ``session`` for ``host``."""
    return f"{cookie_name(host)}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={int(SESSION_IDLE_S)}"


def page_request_problem(method: str, headers: dict[str, str], own_origins: frozenset[str]) -> str | None:
    """Why a cookie-borne request is refused (one sentence), or None when the page may make it."""
    origin = headers.get("origin")
    if origin is not None and origin not in own_origins:
        return f"requests from {origin!r} are refused: the web app is served only to this node's own pages"
    if method not in SAFE_METHODS and PAGE_HEADER not in headers:
        return f"a request that changes something must carry the {PAGE_HEADER} header (cross-site requests cannot)"
    return None
