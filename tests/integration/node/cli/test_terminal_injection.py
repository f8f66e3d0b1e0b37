"""What other members wrote reaches the terminal shown, never obeyed: posts, reactions, room
names and topics, events, poll questions and options, a community's name, proposal descriptions
and vote reasons, and the errors that quote them. ``--json`` keeps every value as it is."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner, Result

from governance.anvil import Anvil
from governance.devchain import deploy_dev_community
from node.cli import main
from node.harness.process import NodeProcess, wait_until
from tests.integration.node.cli.kiez import kiez

# one of each: window title, clipboard write (OSC 52), carriage return, clear screen, the
# right-to-left override, a C1 control sequence introducer, a bidi isolate, DEL
EVIL = "a\x1b]0;title\x07b\x1b]52;c;Y3VybCBldmlsfHNo\x07c\rd\x1b[2Je\u202ef\x9b2Jg\u2066h\x7fi"
SHOWN = "a\\x1b]0;title\\x07b\\x1b]52;c;Y3VybCBldmlsfHNo\\x07c\\rd\\x1b[2Je\\u202ef\\x9b2Jg\\u2066h\\x7fi"
# a community's name is at most 31 bytes (it names the EIP-712 signing domain): the same tricks, shorter
EVIL_NAME = "a\x1b]0;t\x07b\x1b[2Jc\rd\u202ee\x9bf\u2066g"
NAME_SHOWN = "a\\x1b]0;t\\x07b\\x1b[2Jc\\rd\\u202ee\\x9bf\\u2066g"
# what a terminal acts on, written down independently of the code under test
OBEYED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def shows_it_safely(result: Result) -> str:
    assert not OBEYED.search(result.output), repr(result.output)
    return result.output


@pytest.fixture
def node(running: NodeProcess) -> NodeProcess:
    wait_until(lambda: running.api.get("/v1/status")["app_key_active"], 30, "the app key to be active")
    return running


def test_member_commands_show_what_others_wrote_without_obeying_it(node: NodeProcess) -> None:
    home = ("--home", str(node.config.home))
    post_id = json.loads(kiez("post", EVIL, *home, "--json").output)["id"]
    kiez("reply", post_id, f"re: {EVIL}\nsecond line", *home)
    kiez("react", post_id, "\x1b[2J", *home)
    kiez("room", "create", EVIL, "--topic", EVIL, *home)
    kiez("event", "create", EVIL, "--start", "+2d", "--place", EVIL, *home)
    poll_id = json.loads(kiez("poll", "create", EVIL, EVIL, "fine", "--closes", "+2d", *home, "--json").output)["id"]

    feed = shows_it_safely(kiez("feed", *home))
    assert f"    {SHOWN}" in feed
    assert "\\x1b[2J 1" in feed
    thread = shows_it_safely(kiez("thread", post_id, *home))
    assert f"re: {SHOWN}\n        second line" in thread  # the reply's own line stays in its body
    rooms = shows_it_safely(kiez("rooms", *home))
    assert f"* {SHOWN}  (open)" in rooms
    assert f"      {SHOWN}\n" in rooms
    events = shows_it_safely(kiez("events", *home))
    assert f"{SHOWN}  @ {SHOWN}" in events
    polls = shows_it_safely(kiez("poll", "show", *home))
    assert polls.startswith(f"{SHOWN}  [")
    assert f"  1) {SHOWN}  " in polls
    answered = shows_it_safely(kiez("poll", "answer", poll_id, "1", *home))
    assert answered == f"answered 1) {SHOWN}\n"
    missing = shows_it_safely(kiez("feed", "--room", "nowhere", *home, ok=False))
    assert f"(rooms: {SHOWN})" in missing
    exported = json.loads(shows_it_safely(kiez("export", *home)))
    assert EVIL in [m["text"] for m in exported["messages"]]


def test_json_output_keeps_every_value(node: NodeProcess) -> None:
    home = ("--home", str(node.config.home))
    post_id = json.loads(kiez("post", EVIL, *home, "--json").output)["id"]
    kiez("room", "create", EVIL, "--topic", EVIL, *home)

    lines = shows_it_safely(kiez("feed", *home, "--json")).splitlines()
    assert [json.loads(line) for line in lines] == node.api.get("/v1/feed?limit=20&room=")["items"]
    assert json.loads(lines[0])["text"] == EVIL
    thread = json.loads(shows_it_safely(kiez("thread", post_id, *home, "--json")))
    assert thread["post"]["text"] == EVIL
    rooms = json.loads(shows_it_safely(kiez("rooms", *home, "--json")))
    assert (rooms[0]["name"], rooms[0]["topic"]) == (EVIL, EVIL)


def test_governance_shows_names_descriptions_and_reasons_without_obeying_them(anvil: Anvil) -> None:
    community = deploy_dev_community(anvil, name=EVIL_NAME)
    env = {"KIEZ_RPC": anvil.rpc_url, "KIEZ_COMMUNITY": community.address, "KIEZ_DEV_ACCOUNT": "0"}

    def gov(*args: str) -> Result:
        result = CliRunner().invoke(main, ["gov", *args], env=env)
        assert result.exit_code == 0, result.output
        return result

    info = shows_it_safely(gov("info"))
    assert info.startswith(f"{NAME_SHOWN} — community")
    post = "0x" + "ab" * 32
    gov("propose", "hide-post", post, "--reason", f"{EVIL}\nsecond paragraph")
    gov("vote", "1", "for", "--reason", f"{EVIL}\nsigned: the board")
    shown = shows_it_safely(gov("show", "1"))
    assert f"  why: {SHOWN}\n       second paragraph\n" in shown
    assert f"voted for — {SHOWN}\\nsigned: the board" in shown
    as_json = json.loads(shows_it_safely(gov("show", "1", "--json")))
    assert as_json["proposal"]["description"] == f"{EVIL}\nsecond paragraph"
    assert as_json["votes"][0]["reason"] == f"{EVIL}\nsigned: the board"
