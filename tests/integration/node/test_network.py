"""Three node processes on loopback and a real Anvil: gossip, enforcement, restarts, attacks.

One network per module keeps the suite quick; tests that change membership run last.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest

from governance.anvil import Anvil
from governance.types import Support
from node.core import limits
from node.core.encoding import decode, encode_envelope, pack
from node.core.signing import Signer
from node.core.types import Kind, PostBody
from node.errors import ApiError
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until

from .network import raw_peer


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("net"))
    yield network
    network.stop()


def test_a_post_from_a_reaches_b_and_c(net: Network) -> None:
    post_id = net.post(0, "Repair café on Thursday")
    net.wait_post(post_id)
    item = net.nodes[2].api.get(f"/v1/posts/{post_id}")["post"]
    assert item["text"] == "Repair café on Thursday"
    assert item["author"] == net.dev.founders[0].address


def test_replies_reactions_and_deletes_travel(net: Network) -> None:
    post_id = net.post(1, "Who lends a ladder?")
    net.wait_post(post_id)
    net.nodes[2].api.post("/v1/posts", {"text": "I do", "parent": post_id})
    net.nodes[0].api.post("/v1/reactions", {"target": post_id, "reaction": "👍"})
    wait_until(
        lambda: (
            net.nodes[1].api.get(f"/v1/posts/{post_id}")["post"]["reactions"] == {"👍": 1}
            and net.nodes[1].api.get(f"/v1/posts/{post_id}")["post"]["replies"] == 1
        ),
        30,
        "the reply and the reaction at node 1",
    )
    # each node says which reactions are its own member's (the page shows them pressed)
    assert net.nodes[0].api.get(f"/v1/posts/{post_id}")["post"]["mine"] == ["👍"]
    assert net.nodes[1].api.get(f"/v1/posts/{post_id}")["post"]["mine"] == []
    feed = net.nodes[0].api.get("/v1/feed")["items"]
    assert next(i for i in feed if i["id"] == post_id)["mine"] == ["👍"]
    with pytest.raises(ApiError, match="not_author"):
        net.nodes[0].api.post("/v1/deletes", {"target": post_id})
    net.nodes[1].api.post("/v1/deletes", {"target": post_id})
    net.wait_post(post_id, present=False)


def test_the_feed_pages_with_the_next_cursor_of_the_page_before(net: Network) -> None:
    api = net.nodes[1].api
    posted = [net.post(1, f"page test {i}") for i in range(3)]
    wait_until(lambda: {i["id"] for i in api.get("/v1/feed?limit=200")["items"]} >= set(posted), 30, "the posts")
    seen: list[str] = []
    page = api.get("/v1/feed?limit=2")
    while True:
        seen += [i["id"] for i in page["items"]]
        if page["next"] is None:
            break
        page = api.get(f"/v1/feed?limit=2&before={page['next']}")
    assert seen == [i["id"] for i in api.get("/v1/feed?limit=200")["items"]]  # each once, newest first
    assert set(posted) <= set(seen)


def test_a_non_members_post_is_refused_everywhere(net: Network) -> None:
    stranger = Signer(b"\x42" * 32)
    # five seconds old: older than what every node's chain view already covers, so "unknown key"
    # is certain (a brand-new key could otherwise sit in a block a node has not applied yet)
    envelope = stranger.envelope(net.community, Kind.POST, PostBody("buy now"), int(time.time() * 1000) - 5000)
    before = net.refused(0).get("unknown_key", 0)
    with raw_peer(net) as attacker:
        attacker.publish(envelope)
        wait_until(lambda: net.refused(0).get("unknown_key", 0) > before, 30, "node 0 to refuse the stranger")
    for index in range(3):
        feed = net.nodes[index].api.get("/v1/feed")["items"]
        assert all(item["text"] != "buy now" for item in feed)
    assert "unknown_key" not in net.refused(1)  # node 0 did not forward it
    assert "unknown_key" not in net.refused(2)


def test_garbage_from_a_raw_peer_is_refused_and_the_node_keeps_serving(net: Network) -> None:
    good = net.envelope(1, "a valid post, replayed later")
    flipped = bytearray(net.envelope(1, "tampered"))
    flipped[-1] ^= 1
    signed_fields = msgpack.unpackb(msgpack.unpackb(good)[1])
    signed_fields[1] = str(signed_fields[1])  # chain id as a string
    attacks = {
        "malformed": [b"\x00garbage\xff", good[: len(good) // 2], encode_envelope(pack(signed_fields), bytes(64))],
        "oversized": [encode_envelope(b"\x00" * (limits.MAX_MESSAGE_BYTES + 100), bytes(64))],
        "bad_signature": [bytes(flipped)],
        "too_new": [net.envelope(1, "from the future", age_ms=-(limits.MAX_FUTURE_SKEW_MS + 3_600_000))],
        "too_old": [net.envelope(1, "from the past", age_ms=limits.MAX_GOSSIP_AGE_MS + 60_000)],
    }
    before = net.refused(0)
    with raw_peer(net) as attacker:
        for batch in attacks.values():
            for data in batch:
                attacker.publish(data)
        attacker.publish(good)
        want = {reason: before.get(reason, 0) + len(batch) for reason, batch in attacks.items()}
        wait_until(
            lambda: all(net.refused(0).get(r, 0) >= n for r, n in want.items()),
            30,
            f"node 0 to count refusals {want}",
        )
        # the replay: the same valid envelope again, from the attacker, after node 0 stored it
        good_id = _id_of(good)
        net.wait_post(good_id)
        attacker.publish(good)
    # the node still serves its API and its peers: an honest post still reaches everyone
    honest = net.post(0, "still here")
    net.wait_post(honest)
    feed_texts = [i["text"] for i in net.nodes[2].api.get("/v1/feed?limit=200")["items"]]
    assert feed_texts.count("a valid post, replayed later") == 1
    for unwanted in ("tampered", "from the future", "from the past"):
        assert unwanted not in feed_texts


def _id_of(envelope: bytes) -> str:
    return decode(envelope).id.hex()


def test_a_hidden_post_leaves_every_feed(net: Network) -> None:
    post_id = net.post(2, "FREE BIKES!!! click here")
    net.wait_post(post_id)
    block = net.hide(post_id)
    net.wait_block(block)
    net.wait_post(post_id, present=False)
    assert all(net.status(i)["store"]["hidden"] >= 1 for i in range(3))


def test_a_restarted_node_keeps_its_posts_and_resumes_its_cursor(net: Network, tmp_path: Path) -> None:
    post_id = net.post(0, "before the restart")
    net.wait_post(post_id)
    node = net.nodes[1]
    db = node.config.db_path
    applied_before = _applied_logs(db)
    cursor_before = net.status(1)["chain"]["cursor"]
    node.stop()
    node.start()
    assert net.has_post(1, post_id)
    wait_until(lambda: net.status(1)["chain"]["cursor"] is not None, 30, "node 1's cursor")
    status = net.status(1)
    assert status["chain"]["cursor"] >= cursor_before
    assert status["chain"]["events_applied"] == 0  # nothing re-applied after the restart
    assert _applied_logs(db) == applied_before
    wait_until(lambda: net.status(1)["peers"] >= 1, 30, "node 1 to reconnect")
    after = net.post(1, "after the restart")
    net.wait_post(after)


def _applied_logs(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM applied_logs").fetchone()[0])
    finally:
        conn.close()


def test_a_revoked_keys_earlier_posts_stay_and_later_ones_are_refused(net: Network) -> None:
    earlier = net.post(1, "signed before the revocation")
    net.wait_post(earlier)
    key = net.signer(1).public_key
    net.wait_applied(net.client(1).revoke_key(key).block_number)
    with pytest.raises(ApiError, match="revoked_key"):
        net.post(1, "signed after")
    before = net.refused(0).get("revoked_key", 0)
    with raw_peer(net) as attacker:
        attacker.publish(net.envelope(1, "forged with the revoked key"))
        wait_until(lambda: net.refused(0).get("revoked_key", 0) > before, 30, "node 0 to refuse the revoked key")
    for index in range(3):
        assert net.has_post(index, earlier)  # history is not rewritten


def test_a_removed_members_new_posts_are_refused(net: Network) -> None:
    gone = net.dev.founders[2].address
    a, b = net.client(0), net.client(1)
    created, _ = a.propose_remove_member(gone, "moved away")
    a.cast_vote(created.proposal_id, Support.FOR)
    b.cast_vote(created.proposal_id, Support.FOR)
    net.wait_applied(a.execute(created).block_number)
    with pytest.raises(ApiError, match="not_a_member"):
        net.post(2, "I'm still here")
    before = net.refused(0).get("not_a_member", 0)
    with raw_peer(net) as attacker:
        attacker.publish(net.envelope(2, "sneaking in"))
        wait_until(lambda: net.refused(0).get("not_a_member", 0) > before, 30, "node 0 to refuse the removed member")
    assert all("sneaking in" not in [i["text"] for i in net.nodes[x].api.get("/v1/feed")["items"]] for x in range(3))
