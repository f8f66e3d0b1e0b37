"""The web app's login codes, sessions and the rule for cookie-borne requests (node.api.session);
the guard taking a session instead of the token is in test_guard.py."""

from __future__ import annotations

from node.api.session import (
    CODE_TTL_S,
    MAX_SESSIONS,
    SESSION_IDLE_S,
    Sessions,
    cookie_of,
    page_request_problem,
    set_cookie,
)

HOST = "127.0.0.1:8731"
OWN = frozenset({f"http://{HOST}"})


def test_a_code_logs_in_once_and_only_while_fresh() -> None:
    sessions = Sessions()
    code = sessions.mint_code(now=0.0)
    session = sessions.redeem(code, now=1.0)
    assert session is not None
    assert sessions.redeem(code, now=2.0) is None  # used up
    stale = sessions.mint_code(now=10.0)
    assert sessions.redeem(stale, now=10.0 + CODE_TTL_S) is None
    assert sessions.redeem("not a code", now=11.0) is None


def test_a_session_lives_while_used_and_the_oldest_goes_first() -> None:
    sessions = Sessions()
    first = sessions.redeem(sessions.mint_code(0.0), 0.0)
    assert first is not None
    assert sessions.touch(first, SESSION_IDLE_S - 1)  # used: kept for another period
    assert sessions.touch(first, 2 * SESSION_IDLE_S - 2)
    assert not sessions.touch(first, 3 * SESSION_IDLE_S)
    now = 4 * SESSION_IDLE_S
    made = [sessions.redeem(sessions.mint_code(now), now) for _ in range(MAX_SESSIONS + 1)]
    assert not sessions.touch(str(made[0]), now)
    assert all(sessions.touch(str(s), now) for s in made[1:])


def test_the_cookie_is_http_only_and_strict_and_named_for_the_nodes_port() -> None:
    assert set_cookie(HOST, "abc").startswith("kiez_session_8731=abc; Path=/; HttpOnly; SameSite=Strict;")
    assert cookie_of({"host": HOST, "cookie": "theme=dark; kiez_session_8731=abc"}) == "abc"
    # another node on the same machine has its own cookie: a browser sends both to each
    assert cookie_of({"host": HOST, "cookie": "kiez_session_8732=other; kiez_session_8731=abc"}) == "abc"
    assert cookie_of({"host": HOST, "cookie": "kiez_session_8732=other"}) is None
    assert cookie_of({"host": HOST, "cookie": "kiez_session_8731="}) is None
    assert cookie_of({}) is None


def test_a_cookie_borne_request_must_come_from_the_page() -> None:
    assert page_request_problem("GET", {}, OWN) is None  # a picture, a link (SameSite=Strict guards)
    assert page_request_problem("POST", {"x-kiez-page": "1"}, OWN) is None
    assert page_request_problem("POST", {"x-kiez-page": "1", "origin": f"http://{HOST}"}, OWN) is None
    assert "x-kiez-page" in str(page_request_problem("POST", {}, OWN))
    forged = page_request_problem("POST", {"x-kiez-page": "1", "origin": "http://evil.example"}, OWN)
    assert "'http://evil.example' are refused" in str(forged)
    assert page_request_problem("GET", {"origin": "null"}, OWN) is not None
