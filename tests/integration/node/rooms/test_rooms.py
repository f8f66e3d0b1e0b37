"""Rooms, private rooms, events, polls and attachments across four real node processes.

One network per module; the test that removes a member runs last. Node 3 takes part in no
private room: it relays the room's sealed messages like any node and must not be able to read them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from governance.anvil import Anvil
from governance.types import MediaPolicy, Support
from node.core.types import Attachment, Kind, PostBody
from node.errors import ApiError, NodeError
from node.harness.cluster import Network, start_network
from node.harness.process import until_accepted, wait_until
from tests.integration.node.cli.kiez import at_node as kiez
from tests.integration.node.network import raw_peer

#: The smallest valid PNG file would do; any bytes with a declared image type are stored as sent.
PICTURE = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"kiez garden").digest() * 40


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("rooms"), size=4)
    yield network
    network.stop()


def invite(net: Network, room: str, index: int) -> str:
    """Node 0 invites node ``index``'s member (once their X25519 key is known); the new key's id."""
    member = net.dev.founders[index].address
    invited = until_accepted(lambda: net.nodes[0].api.post(f"/v1/rooms/{room}/invite", {"member": member}), "invite")
    return str(invited["key"])


def holds_newest(net: Network, index: int, room: str, key: str) -> bool:
    """Whether node ``index`` can read ``room`` under ``key``: a writer seals under its newest
    key, so a reader that got only a later one would not open a post sealed under an earlier."""
    found = room_of(net, index, room)
    return bool(found["readable"] and found["key"] == key)


def feed(net: Network, index: int, room: str = "") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = net.nodes[index].api.get(f"/v1/feed?room={room}")["items"]
    return items


def texts(net: Network, index: int, room: str = "") -> list[str]:
    return [item["text"] for item in feed(net, index, room)]


def room_of(net: Network, index: int, room_id: str) -> dict[str, Any]:
    rooms: list[dict[str, Any]] = net.nodes[index].api.get("/v1/rooms")["rooms"]
    found = [r for r in rooms if r["id"] == room_id]
    if not found:
        raise NodeError(f"node {index} does not know room {room_id[:12]} yet")  # wait_until waits on
    return found[0]


def raw_store(net: Network, index: int) -> bytes:
    """Everything node ``index`` has on disk: its database and its write-ahead log."""
    path = net.nodes[index].config.db_path
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_an_open_room_has_its_own_feed(net: Network) -> None:
    room = net.nodes[0].api.post("/v1/rooms", {"name": "garden", "topic": "the shared beds"})["room"]
    wait_until(
        lambda: all(any(r["id"] == room for r in n.api.get("/v1/rooms")["rooms"]) for n in net.nodes), 30, "room"
    )
    net.nodes[1].api.post(f"/v1/rooms/{room}/join", {})
    post = net.nodes[1].api.post("/v1/posts", {"text": "Tomatoes are in", "room": room})["id"]
    net.wait_post(post)
    assert texts(net, 2, room) == ["Tomatoes are in"]
    assert "Tomatoes are in" not in texts(net, 2)  # the general feed is a room of its own
    assert room in net.status(1)["rooms"]["following"]
    assert room_of(net, 3, room) | {"following": None} == {
        "id": room,
        "name": "garden",
        "topic": "the shared beds",
        "visibility": "open",
        "creator": net.dev.founders[0].address,
        "creator_name": f"{net.dev.founders[0].address[:6]}…{net.dev.founders[0].address[-4:]}",  # no profile
        "creator_only": False,
        "slow_mode_s": 0,
        "following": None,
        "readable": True,
        "key": None,
    }


def test_room_rules_are_signed_state_every_node_enforces(net: Network) -> None:
    room = net.nodes[0].api.post("/v1/rooms", {"name": "notices", "creator_only": True, "slow_mode_s": 60})["room"]
    wait_until(lambda: any(r["id"] == room for r in net.nodes[1].api.get("/v1/rooms")["rooms"]), 30, "room at 1")
    with pytest.raises(ApiError, match=r"room_rules.*only its creator"):
        net.nodes[1].api.post("/v1/posts", {"text": "me too", "room": room})
    net.nodes[0].api.post("/v1/posts", {"text": "Bins go out on Monday", "room": room})
    with pytest.raises(ApiError, match=r"rate_limited.*slow mode: one post per 60 s"):
        net.nodes[0].api.post("/v1/posts", {"text": "and on Thursday", "room": room})
    assert net.refused(1).get("room_rules", 0) >= 1


def test_a_private_room_is_readable_only_by_its_participants(net: Network) -> None:
    created = until_accepted(
        lambda: net.nodes[0].api.post("/v1/rooms", {"name": "organisers", "visibility": "private"}),
        "node 0's X25519 key to be known",
    )
    room = created["room"]
    for index in (1, 2):
        newest = invite(net, room, index)
    for index in (1, 2, 3):  # node 3 follows the room's topic, so it relays it, but was not invited
        wait_until(lambda i=index: any(r["id"] == room for r in net.nodes[i].api.get("/v1/rooms")["rooms"]), 30, "room")
        net.nodes[index].api.post(f"/v1/rooms/{room}/join", {})
    wait_until(lambda: all(holds_newest(net, i, room, newest) for i in (0, 1, 2)), 30, "the room key at 1 and 2")

    secret = "The budget is 1200 euros"
    post = net.nodes[1].api.post("/v1/posts", {"text": secret, "room": room})["id"]
    net.nodes[2].api.post("/v1/reactions", {"target": post, "reaction": "ok", "room": room})
    net.nodes[0].api.post("/v1/posts", {"text": "Agreed", "room": room, "parent": post})
    wait_until(lambda: all(texts(net, i, room) == [secret] for i in (0, 1, 2)), 30, "the sealed post at 0, 1, 2")
    wait_until(
        lambda: feed(net, 2, room)[0]["reactions"] == {"ok": 1} and feed(net, 2, room)[0]["replies"] == 1,
        30,
        "the sealed reaction and reply at node 2",
    )
    assert net.nodes[2].api.get(f"/v1/posts/{post}")["replies"][0]["text"] == "Agreed"

    # node 3 holds the sealed messages (it relays them) and cannot read them
    wait_until(lambda: _holds(net, 3, post), 30, "node 3 to hold (relay) the sealed post")
    assert room_of(net, 3, room)["readable"] is False
    assert feed(net, 3, room) == []
    assert secret.encode() not in raw_store(net, 3)
    assert secret.encode() not in raw_store(net, 1)  # nobody stores the plain text: it is opened when read
    with pytest.raises(ApiError, match="not a participant"):
        net.nodes[3].api.post("/v1/posts", {"text": "let me in", "room": room})
    with pytest.raises(ApiError, match=r"sealed|private"):  # plaintext in a private room is refused
        net.nodes[3].api.post("/v1/events", {"title": "x", "starts_ms": 1, "ends_ms": 2, "room": room})

    # leaving: node 2's member leaves; a remaining participant's node rotates the key without them
    net.nodes[2].api.post(f"/v1/rooms/{room}/leave", {})
    wait_until(lambda: not room_of(net, 2, room)["readable"] and room_of(net, 1, room)["readable"], 60, "rotation")
    later = "Said after node 2 left"
    later_id = net.nodes[0].api.post("/v1/posts", {"text": later, "room": room})["id"]
    wait_until(lambda: texts(net, 1, room)[:1] == [later], 30, "node 1 to read the post after the rotation")
    wait_until(lambda: _holds(net, 2, later_id), 60, "node 2 to hold the sealed post (sync brings it)")
    assert later not in texts(net, 2, room)


def _holds(net: Network, index: int, message_id: str) -> bool:
    with sqlite3.connect(f"file:{net.nodes[index].config.db_path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT 1 FROM messages WHERE id = ?", (bytes.fromhex(message_id),)).fetchone() is not None


def test_an_event_keeps_each_members_last_answer(net: Network) -> None:
    starts = int(time.time() * 1000) + 86_400_000
    event = net.nodes[0].api.post(
        "/v1/events",
        {"title": "Repair café", "starts_ms": starts, "ends_ms": starts + 7_200_000, "place": "Library, room 2"},
    )["id"]
    wait_until(lambda: any(e["id"] == event for e in net.nodes[1].api.get("/v1/events")["events"]), 30, "event")
    net.nodes[1].api.post(f"/v1/events/{event}/rsvp", {"answer": "yes"})
    net.nodes[2].api.post(f"/v1/events/{event}/rsvp", {"answer": "maybe"})
    time.sleep(0.01)
    net.nodes[1].api.post(f"/v1/events/{event}/rsvp", {"answer": "no"})
    with pytest.raises(ApiError, match="yes, no or maybe"):
        net.nodes[1].api.post(f"/v1/events/{event}/rsvp", {"answer": "perhaps"})

    def counts(index: int) -> dict[str, int]:
        found = [e for e in net.nodes[index].api.get("/v1/events")["events"] if e["id"] == event]
        return found[0]["counts"] if found else {}

    wait_until(lambda: all(counts(i) == {"yes": 0, "no": 1, "maybe": 1} for i in range(4)), 30, "RSVPs everywhere")
    found = next(e for e in net.nodes[3].api.get("/v1/events")["events"] if e["id"] == event)
    assert found["place"] == "Library, room 2"
    assert found["answers"] == {net.dev.founders[1].address: "no", net.dev.founders[2].address: "maybe"}


def test_poll_tallies_are_the_same_on_every_node(net: Network) -> None:
    closes = int(time.time() * 1000) + 20_000  # room for the answers on a loaded machine
    poll = net.nodes[0].api.post(
        "/v1/polls", {"question": "Which day for the clean-up?", "options": ["Sat", "Sun"], "closes_ms": closes}
    )["id"]
    wait_until(
        lambda: all(any(p["id"] == poll for p in n.api.get("/v1/polls")["polls"]) for n in net.nodes), 30, "poll"
    )
    net.nodes[0].api.post(f"/v1/polls/{poll}/answer", {"option": 0})
    net.nodes[1].api.post(f"/v1/polls/{poll}/answer", {"option": 0})
    time.sleep(0.01)
    net.nodes[1].api.post(f"/v1/polls/{poll}/answer", {"option": 1})  # changes their mind
    net.nodes[2].api.post(f"/v1/polls/{poll}/answer", {"option": 1})
    with pytest.raises(ApiError, match="option"):
        net.nodes[3].api.post(f"/v1/polls/{poll}/answer", {"option": 7})
    wait_until(
        lambda: all(n.api.get(f"/v1/polls/{poll}")["tally"] == [1, 2] for n in net.nodes), 30, "the tally everywhere"
    )
    wait_until(lambda: time.time() * 1000 > closes + 100, 30, "the poll to close")
    with pytest.raises(ApiError, match="closed"):
        net.nodes[3].api.post(f"/v1/polls/{poll}/answer", {"option": 0})
    assert [n.api.get(f"/v1/polls/{poll}")["tally"] for n in net.nodes] == [[1, 2]] * 4


def test_attachments_travel_by_hash_and_leave_with_their_posts(net: Network) -> None:
    uploaded = net.nodes[0].api.upload(PICTURE, "image/png")
    assert uploaded == {"sha256": hashlib.sha256(PICTURE).hexdigest(), "size": len(PICTURE), "mime": "image/png"}
    sha = uploaded["sha256"]
    first = net.nodes[0].api.post("/v1/posts", {"text": "The new bench", "attachments": [sha]})["id"]
    second = net.nodes[0].api.post("/v1/posts", {"text": "Same bench, again", "attachments": [sha]})["id"]
    net.wait_post(second)

    def held(index: int) -> bool:
        try:
            return net.nodes[index].api.download(sha) == ("image/png", PICTURE)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    wait_until(lambda: all(held(i) for i in range(4)), 60, "every node to fetch and verify the picture")
    assert net.nodes[2].api.get(f"/v1/posts/{first}")["post"]["attachments"] == [
        {"sha256": sha, "size": len(PICTURE), "mime": "image/png", "held": True}
    ]
    net.nodes[0].api.post("/v1/deletes", {"target": first})
    net.wait_post(first, present=False)
    assert all(held(i) for i in range(4))  # the second post still names it
    net.nodes[0].api.post("/v1/deletes", {"target": second})
    net.wait_post(second, present=False)
    wait_until(lambda: not any(held(i) for i in range(4)), 30, "the picture to leave with its last post")
    with pytest.raises(ApiError, match="upload it first"):
        net.nodes[0].api.post("/v1/posts", {"text": "gone", "attachments": [sha]})
    with pytest.raises(ApiError, match="attachments are"):
        net.nodes[0].api.upload(b"#!/bin/sh", "text/x-shellscript")


def test_a_hidden_posts_attachment_goes_with_it(net: Network) -> None:
    picture = PICTURE + b"hidden"
    sha = net.nodes[1].api.upload(picture, "image/png")["sha256"]
    post = net.nodes[1].api.post("/v1/posts", {"text": "Off-topic picture", "attachments": [sha]})["id"]
    net.wait_post(post)
    wait_until(lambda: net.nodes[2].api.get(f"/v1/posts/{post}")["post"]["attachments"][0]["held"], 60, "fetch")
    a, b, c = net.client(0), net.client(1), net.client(2)
    created, _ = a.propose_hide_post(bytes.fromhex(post), "off-topic")
    for voter in (a, b, c):
        voter.cast_vote(created.proposal_id, Support.FOR)
    net.wait_applied(a.execute(created).block_number)
    net.wait_post(post, present=False)
    for index in range(4):
        with pytest.raises(ApiError, match="does not hold"):
            net.nodes[index].api.download(sha)


def test_the_member_commands_for_rooms_events_polls_and_attachments(net: Network, tmp_path: Path) -> None:
    assert "created room workshop" in kiez(net, 0, "room", "create", "workshop", "--topic", "tools and repairs")
    wait_until(lambda: "workshop" in kiez(net, 1, "rooms"), 30, "the room at node 1")
    assert "join: workshop" in kiez(net, 1, "room", "join", "workshop")
    assert "* workshop  (open)" in kiez(net, 1, "rooms")
    picture = tmp_path / "drill.png"
    picture.write_bytes(PICTURE + b"drill")
    post_id = kiez(net, 1, "post", "Who has a drill?", "--room", "workshop", "--attach", str(picture)).split()[-1]
    kiez(net, 0, "room", "join", "workshop")
    wait_until(lambda: "Who has a drill?" in kiez(net, 0, "feed", "--room", "workshop"), 30, "the post at node 0")
    kiez(net, 0, "reply", post_id, "I do")  # goes to the post's room by itself
    wait_until(lambda: "↩ 1" in kiez(net, 1, "feed", "--room", "workshop"), 30, "the reply at node 1")
    assert "📎 image/png" in kiez(net, 1, "feed", "--room", "workshop")
    assert "Who has a drill?" not in kiez(net, 1, "feed")
    assert "no room named 'nowhere'" in kiez(net, 1, "feed", "--room", "nowhere", ok=False)

    created = kiez(
        net, 0, "event", "create", "Tool swap", "--start", "+2d", "--place", "Workshop", "--room", "workshop"
    )
    event_id = created.split()[1]
    kiez(net, 2, "room", "join", "workshop")  # its topic brings the room's messages at once (sync: every 30 s)
    wait_until(lambda: "Tool swap" in kiez(net, 2, "events"), 45, "the event at node 2")
    kiez(net, 2, "event", "rsvp", event_id, "yes")
    wait_until(lambda: "yes 1, maybe 0, no 0" in kiez(net, 0, "events", "--room", "workshop"), 30, "the RSVP")

    created = kiez(net, 0, "poll", "create", "Buy a new saw?", "yes", "no", "later", "--closes", "+1h")
    assert "not binding" in created
    poll_id = created.split()[1].rstrip(",")
    wait_until(lambda: "Buy a new saw?" in kiez(net, 2, "poll", "show"), 30, "the poll at node 2")
    assert "answered 3) later" in kiez(net, 2, "poll", "answer", poll_id, "later")
    kiez(net, 1, "poll", "answer", poll_id, "1")
    wait_until(lambda: "2 answers" in kiez(net, 3, "poll", "show", poll_id), 30, "both answers at node 3")
    shown = kiez(net, 3, "poll", "show", poll_id)
    assert "1) yes" in shown
    assert "3) later" in shown
    assert "not binding" in shown
    assert "is not one of the options" in kiez(net, 2, "poll", "answer", poll_id, "maybe", ok=False)
    assert "cannot read the time" in kiez(net, 0, "poll", "create", "q", "a", "b", "--closes", "soon", ok=False)
    status = kiez(net, 1, "status")
    assert "rooms     " in status
    assert "guard     strikes:" in status


def test_the_community_votes_lower_caps_on_attachments(net: Network) -> None:
    a, b, d = net.client(0), net.client(1), net.client(3)
    created, _ = a.propose_set_media_policy(MediaPolicy(max_attachments=1, max_attachment_kib=1), "keep it light")
    for voter in (a, b, d):
        voter.cast_vote(created.proposal_id, Support.FOR)
    net.wait_applied(a.execute(created).block_number)
    with pytest.raises(ApiError, match="at most 1 KiB"):
        net.nodes[1].api.upload(PICTURE, "image/png")  # 1288 bytes
    small = [net.nodes[1].api.upload(PICTURE[:600] + bytes([i]), "image/png")["sha256"] for i in range(2)]
    with pytest.raises(ApiError, match="at most 1 attachments per post"):
        net.nodes[1].api.post("/v1/posts", {"text": "two pictures", "attachments": small})
    net.nodes[1].api.post("/v1/posts", {"text": "one picture", "attachments": small[:1]})
    # a post over the caps sent straight into gossip is refused by every node, not just the author's
    before = net.refused(2).get("bad_content", 0)
    pictures = tuple(Attachment(bytes([i]) * 32, 100, "image/png") for i in range(2))
    over = net.signer(0).envelope(net.community, Kind.POST, PostBody("sneaky", None, pictures), int(time.time() * 1000))
    with raw_peer(net, connect_to=2) as peer:
        peer.publish(over)
        wait_until(lambda: net.refused(2).get("bad_content", 0) > before, 30, "node 2 to refuse the post")


def test_a_removed_member_cannot_read_what_comes_after_the_rotation(net: Network) -> None:
    room = until_accepted(
        lambda: net.nodes[0].api.post("/v1/rooms", {"name": "board", "visibility": "private"}), "room"
    )["room"]
    for index in (1, 2):
        newest = invite(net, room, index)
        wait_until(lambda i=index: any(r["id"] == room for r in net.nodes[i].api.get("/v1/rooms")["rooms"]), 30, "room")
        net.nodes[index].api.post(f"/v1/rooms/{room}/join", {})
    wait_until(lambda: all(holds_newest(net, i, room, newest) for i in (1, 2)), 30, "the key at 1 and 2")
    everyone = net.nodes[0].api.post("/v1/rooms", {"name": "residents", "visibility": "members"})["room"]
    wait_until(lambda: all(room_of(net, i, everyone)["readable"] for i in range(4)), 60, "the members room's key")
    before = net.nodes[1].api.post("/v1/posts", {"text": "Before the vote", "room": room})["id"]
    wait_until(lambda: texts(net, 2, room) == ["Before the vote"], 30, "node 2 to read the first post")

    gone = net.dev.founders[2].address
    a, b = net.client(0), net.client(1)
    created, _ = a.propose_remove_member(gone, "moved away")
    for voter in (a, b):  # two of the three others decide it (node 2's author does not vote)
        voter.cast_vote(created.proposal_id, Support.FOR)
    net.wait_applied(a.execute(created).block_number)
    # a remaining participant's node seals a fresh key to the others; node 2 is not among them
    wait_until(lambda: not room_of(net, 2, room)["readable"] and room_of(net, 1, room)["readable"], 60, "rotation")
    # a members-only room's readers are the current members: it rotates without node 2 as well
    wait_until(
        lambda: (
            not room_of(net, 2, everyone)["readable"] and all(room_of(net, i, everyone)["readable"] for i in (0, 1, 3))
        ),
        60,
        "the members room to rotate",
    )
    after = "After the vote: new door code 4711"
    post = until_accepted(lambda: net.nodes[1].api.post("/v1/posts", {"text": after, "room": room}), "post")["id"]
    wait_until(lambda: texts(net, 0, room)[:1] == [after], 30, "node 0 to read the new post")
    wait_until(lambda: _holds(net, 2, post), 30, "node 2 to hold (relay) the new sealed post")
    assert after not in texts(net, 2, room)
    assert texts(net, 2, room) == ["Before the vote"]  # what it could read before stays readable to it
    assert after.encode() not in raw_store(net, 2)
    assert before
