"""Hostile input to every route of a real node's API: each bad value of each body field, query
parameter and path segment is a JSON 400 naming what is wrong, never a 500, never accepted as
something else, and the node keeps serving; a body nested 100,000 deep does not kill the node.

The bodies are written as raw bytes (a lone surrogate, an integer of 4,301 digits and 10^30 are
what an attacker sends, not what ``json.dumps`` would make of Python values)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from governance.anvil import Anvil
from node.config import read_secret
from node.harness.process import NodeProcess

from .conftest import start_member_node

NOT_HEX = '"0x' + "g" * 64 + '"'
#: Values no field takes as they are (each replaces one field of a valid body), as JSON text.
HOSTILE = [
    "true",
    "false",
    "null",
    "-1",
    "1.5",
    "10" + "0" * 29,  # 10^30
    "18446744073709551616",  # 2^64
    "9007199254740992",  # 2^53, one past the largest time the API takes
    "1" + "0" * 4300,  # more digits than Python's int() reads from text
    '"\\ud800"',  # a lone surrogate
    '""',
    '"   "',
    '"' + "é" * 4500 + '"',  # 9,000 UTF-8 bytes: longer than any text field
    NOT_HEX,
    '{"x": 1}',
    "[]",
    '["a", 1]',
]
#: What each field does take among those (a value it accepts is not hostile to it): the flags take
#: both booleans, texts of 66 bytes are fine where texts may be longer, some may be blank ...
ACCEPTED = {
    "active": {"true", "false"},
    "creator_only": {"true", "false"},
    "parent": {"null"},
    "room": {'""'},
    "attachments": {"[]"},
    "text": {NOT_HEX},
    "title": {NOT_HEX},
    "question": {NOT_HEX},
    "topic": {NOT_HEX, '""', '"   "'},
    "place": {NOT_HEX, '""', '"   "'},
    "note": {NOT_HEX, '""', '"   "'},
}
HEX = "ab" * 32


@dataclass
class Answer:
    status: int
    kind: str
    body: bytes

    def error(self) -> str:
        data = json.loads(self.body)
        assert isinstance(data, dict), self.body[:200]
        assert set(data) == {"error"}, self.body[:200]
        return str(data["error"])


@dataclass
class Member:
    node: NodeProcess
    post: str
    room: str
    event: str
    poll: str
    address: str

    def send(self, method: str, path: str, body: bytes | None = None, token: bool = True) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.node.config.api_port, timeout=30)
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {read_secret(self.node.config.token_path).strip().decode()}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.headers.get("content-type", ""), response.read())
        finally:
            connection.close()


@pytest.fixture(scope="module")
def member(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Member]:
    node = start_member_node(anvil, tmp_path_factory.mktemp("hostile") / "member")
    try:
        api, now = node.api, int(time.time() * 1000)
        post = api.post("/v1/posts", {"text": "the post everything refers to"})["id"]
        room = api.post("/v1/rooms", {"name": "garden"})["room"]
        event = api.post("/v1/events", {"title": "party", "starts_ms": now + 3_600_000, "ends_ms": now + 7_200_000})
        question = {"question": "which day?", "options": ["sat", "sun"], "closes_ms": now + 86_400_000}
        poll = api.post("/v1/polls", question)
        yield Member(node, post, room, event["id"], poll["id"], api.get("/v1/status")["member"])
    finally:
        node.stop()


def _valid_bodies(m: Member) -> dict[tuple[str, str], dict[str, Any]]:
    """A body every body-taking route accepts (each field given, so each can be replaced)."""
    now = int(time.time() * 1000)
    return {
        ("POST", "/v1/posts"): {"text": "hello", "parent": m.post, "room": "", "attachments": []},
        ("POST", "/v1/reactions"): {"target": m.post, "reaction": "+1", "active": True, "room": ""},
        ("POST", "/v1/deletes"): {"target": m.post, "room": ""},
        ("POST", "/v1/rooms"): {
            "name": "workshop",
            "topic": "tools",
            "visibility": "open",
            "creator_only": False,
            "slow_mode_s": 0,
        },
        ("POST", f"/v1/rooms/{m.room}/invite"): {"member": m.address},
        ("POST", "/v1/events"): {
            "title": "repair café",
            "starts_ms": now + 3_600_000,
            "ends_ms": now + 7_200_000,
            "place": "the library",
            "room": m.room,
        },
        ("POST", f"/v1/events/{m.event}/rsvp"): {"answer": "yes"},
        ("POST", "/v1/polls"): {"question": "tea?", "options": ["yes", "no"], "closes_ms": now + 86_400_000},
        ("POST", f"/v1/polls/{m.poll}/answer"): {"option": 1},
        # a guest's app key (no member's) into the garden for a day
        ("POST", "/v1/guests"): {"room": m.room, "key": "cd" * 32, "until": now + 86_400_000, "note": "soil scientist"},
    }


def _with(body: dict[str, Any], name: str, raw: str) -> bytes:
    """``body`` as JSON text with field ``name``'s value replaced by the raw JSON ``raw``."""
    fields = [f"{json.dumps(k)}: {raw if k == name else json.dumps(v)}" for k, v in body.items()]
    return ("{" + ", ".join(fields) + "}").encode()


def _refused(answer: Answer, what: str, where: str) -> str:
    """Checks a 400 in the API's own shape and returns its message."""
    assert answer.status == 400, f"{where}: {answer.status} {answer.body[:300]!r}"
    assert answer.kind == "application/json; charset=utf-8", where
    assert b"Traceback" not in answer.body, where
    message = answer.error()
    assert what in message or "not valid JSON" in message, f"{where}: {message}"
    return message


def test_every_hostile_value_of_every_body_field_is_a_400_naming_it(member: Member) -> None:
    checked = 0
    for (method, path), body in _valid_bodies(member).items():
        for name in body:
            for raw in HOSTILE:
                if raw in ACCEPTED.get(name, set()):
                    continue
                _refused(member.send(method, path, _with(body, name, raw)), name, f"{method} {path} {name}={raw[:40]}")
                checked += 1
        # a field the route does not take is refused too, by its name
        _refused(member.send(method, path, _with({**body, "bogus": 1}, "bogus", "1")), "bogus", f"{method} {path}")
    # ... and the valid bodies are accepted (so each 400 above was the hostile value's doing);
    # the delete comes last, it removes the post the others refer to
    for (method, path), body in sorted(_valid_bodies(member).items(), key=lambda item: "deletes" in item[0][1]):
        answer = member.send(method, path, json.dumps(body).encode())
        expected = 400 if path.endswith("/invite") else 201  # the garden is open: nobody needs inviting
        assert answer.status == expected, f"{method} {path}: {answer.body!r}"
    assert checked > 300


def test_an_object_is_never_taken_as_text(member: Member) -> None:
    now = int(time.time() * 1000)
    event = {"title": "t", "starts_ms": now + 60_000, "ends_ms": now + 120_000}
    for name in ("place", "room"):
        message = _refused(member.send("POST", "/v1/events", _with({**event, name: ""}, name, '{"x": 1}')), name, name)
        assert message.startswith(f"{name} must be")
    assert not [e for e in member.node.api.get("/v1/events")["events"] if e["title"] == "t"]


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/v1/feed?limit=0", "limit"),
        ("/v1/feed?limit=201", "limit"),
        ("/v1/feed?limit=-1", "limit"),
        ("/v1/feed?limit=%2B5", "limit"),
        ("/v1/feed?limit=%205", "limit"),
        ("/v1/feed?limit=%D9%A5", "limit"),  # an Arabic-Indic five, which int() would read
        ("/v1/feed?limit=" + "9" * 5000, "limit"),
        ("/v1/feed?limit=true", "limit"),
        ("/v1/feed?before=" + "1" + "0" * 30 + ":00", "before"),
        ("/v1/feed?before=1:" + "zz" * 32, "before"),
        ("/v1/feed?before=9007199254740992:" + HEX, "before"),
        ("/v1/feed?room=garden", "room"),
        ("/v1/feed?room=%ED%A0%80", "UTF-8"),  # a surrogate, encoded
        ("/v1/feed?colour=red", "colour"),
        ("/v1/events?room=%7B%7D", "room"),
        ("/v1/polls?room=" + "a" * 65, "room"),
        ("/v1/export?member=0x123", "member"),
        ("/v1/export?member=alice", "member"),
        ("/v1/posts/zz", "post id"),
        ("/v1/posts/" + "a" * 66, "post id"),
        ("/v1/polls/%00", "poll id"),
        ("/v1/blobs/" + "1" * 63, "blob hash"),
        ("/v1/guests?all=yes", "all"),
        ("/v1/guests?room=" + HEX, "room"),
    ],
)
def test_every_hostile_query_parameter_and_path_is_a_400_naming_it(member: Member, path: str, what: str) -> None:
    _refused(member.send("GET", path), what, path)


@pytest.mark.parametrize(
    "path",
    ["/v1/events/zz/rsvp", "/v1/polls/1/answer", "/v1/rooms/%00/join", "/v1/reactions", "/v1/erase", "/v1/guests"],
)
def test_a_body_that_is_no_json_object_is_a_400(member: Member, path: str) -> None:
    for body in (b"[1]", b"{", b"\xff", b'"\\udc00"', b"1" + b"0" * 4300):
        answer = member.send("POST", path, body)
        if path == "/v1/erase":  # takes no body at all: what is sent is not read
            continue
        assert answer.status in {400, 404}, f"{path}: {answer.status} {answer.body!r}"
        assert answer.error()


def test_no_request_left_a_traceback_or_a_500(member: Member) -> None:
    """Runs after the tables above: the node answered every one of them and logged no failure."""
    assert member.node.running
    assert member.node.api.get("/v1/status")["app_key_active"]
    log = Path(member.node.log_path or "").read_text("utf-8", "replace")
    assert "Traceback" not in log
    assert "API handler failed" not in log


def test_deeply_nested_bodies_are_refused_and_the_node_keeps_serving(member: Member) -> None:
    # the attacker's body: before orjson it overflowed the C stack and the node died of SIGSEGV
    assert member.node.process is not None
    for body in (b"[" * 100_000, b"[" * 60_000, b'{"text":' * 8_000):
        try:
            answer = member.send("POST", "/v1/posts", body)
        except (http.client.HTTPException, OSError) as exc:
            member.node.process.wait(timeout=10)
            raise AssertionError(f"no answer ({exc!r}); the node exited with {member.node.process.poll()}") from None
        assert answer.status in {400, 413}, answer.body[:200]
        assert "JSON" in answer.error() or "over" in answer.error()
    assert member.node.api.post("/v1/posts", {"text": "still here"})["id"]
