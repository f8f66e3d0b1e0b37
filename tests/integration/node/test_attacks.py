"""Attacks on a node from a raw libp2p peer on loopback, while honest members keep posting.

Three node processes on a real Anvil (one network for the module); the attacker is a separate
process (raw_peer.py) connected to node 0 only, with a fresh peer id per test. What every flood
test asserts is behaviour, not time: each honest post reaches every node, every API call answers,
the refusals show up by reason in ``/v1/status``, and the attacker ends banned and disconnected
(its redials refused) or, for what an honest peer could send too (replays of stored messages, a
member beyond the rate limit), its messages are ignored without anyone being blamed.

Every wait is bounded (``wait_until``); sleeps only pace the honest chatter, they assert nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from governance.anvil import Anvil
from node.core import limits
from node.core.encoding import decode, encode_envelope
from node.core.signing import Signer
from node.core.types import Kind, PostBody
from node.errors import ApiError
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until
from node.p2p.config import GossipConfig

from .network import ROOT, RawPeer, raw_peer

CONFIG = GossipConfig()  # what the nodes run with
#: REJECTs that graylist a peer: it must be graylisted before it is banned.
TO_GRAYLIST = int(CONFIG.rejects_to_graylist()) + 1
FLOOD = 300


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("attacks"))
    yield network
    network.stop()


# --- honest members keep talking --------------------------------------------------------------


@dataclass
class Chatter:
    """Members posting through their own nodes' APIs, round robin, from a thread."""

    net: Network
    interval: float = 0.15
    text_bytes: int = 0  # pad posts to about this size
    ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        n = 0
        while not self._stop.is_set():
            index = n % len(self.net.nodes)
            text = f"honest {n} from node {index}"
            text += " " + "x" * max(self.text_bytes - len(text) - 1, 0) if self.text_bytes else ""
            try:
                self.ids.append(self.net.post(index, text))
            except ApiError as exc:
                self.errors.append(f"node {index}: {exc}")
            n += 1
            self._stop.wait(self.interval)  # pacing only

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def honest_chatter(net: Network, **options: Any) -> Iterator[Chatter]:
    chatter = Chatter(net, **options)
    thread = threading.Thread(target=chatter.run, daemon=True)
    thread.start()
    try:
        yield chatter
    finally:
        chatter.stop()
        thread.join(timeout=30)


def assert_delivered_everywhere(net: Network, chatter: Chatter, timeout: float = 60) -> None:
    """Every honest post reached every node, and no API call failed meanwhile."""
    assert chatter.errors == []
    assert chatter.ids, "the honest members posted nothing"
    missing = {(i, post) for i in range(len(net.nodes)) for post in chatter.ids}

    def all_there() -> bool:
        for index, post in sorted(missing):
            if net.has_post(index, post):
                missing.discard((index, post))
        return not missing

    wait_until(all_there, timeout, f"{len(chatter.ids)} honest posts on every node")


# --- reading the node's status ----------------------------------------------------------------


def guard(net: Network, index: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = net.status(index)["guard"]
    return result


def ban_of(net: Network, peer: str, index: int = 0) -> dict[str, Any] | None:
    return next((b for b in guard(net, index)["banned"] if b["peer"] == peer), None)


def connected_peers(net: Network, index: int = 0) -> list[str]:
    result: list[str] = net.nodes[index].api.get("/v1/peers")["peers"]
    return result


def messages(net: Network, index: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = net.status(index)["messages"]
    return result


def assert_banned_and_cut_off(net: Network, attacker: RawPeer, reasons: set[str]) -> dict[str, Any]:
    """The attacker is banned for strikes of ``reasons`` (and for talking on while graylisted),
    sees its connection closed, and its redials (every second) are refused. Returns the ban."""
    wait_until(lambda: ban_of(net, attacker.peer_id) is not None, 30, "node 0 to ban the attacker")
    ban = ban_of(net, attacker.peer_id)
    assert ban is not None
    strikes: dict[str, int] = ban["strikes"]
    assert sum(strikes.values()) == CONFIG.max_strikes
    assert set(strikes) <= reasons | {"while_graylisted"}, strikes
    # The score graylisted it first: at least that many of the strikes were the attack itself.
    assert sum(strikes.get(r, 0) for r in reasons) >= TO_GRAYLIST, strikes
    wait_until(attacker.was_disconnected, 30, "the attacker to see its connection closed")
    refused_before = guard(net)["refused_connections"]
    wait_until(lambda: guard(net)["refused_connections"] > refused_before, 30, "node 0 to refuse a redial")
    return ban


# --- floods that get the attacker banned ------------------------------------------------------


def test_a_flood_of_bad_signatures_gets_the_sender_banned_while_honest_posts_flow(net: Network) -> None:
    before = messages(net)["refused"].get("bad_signature", 0)
    others_before = [messages(net, i)["refused"].get("bad_signature", 0) for i in (1, 2)]
    flood = []
    for n in range(FLOOD):
        tampered = bytearray(net.envelope(n % 3, f"forged {n}"))
        tampered[-1] ^= 1  # the last byte of the signature
        flood.append(bytes(tampered))
    with honest_chatter(net) as chatter, raw_peer(net) as attacker:
        attacker.publish_many(flood)
        assert_banned_and_cut_off(net, attacker, {"bad_signature"})
    assert_delivered_everywhere(net, chatter)
    refused = messages(net)["refused"].get("bad_signature", 0) - before
    assert TO_GRAYLIST <= refused <= CONFIG.max_strikes + 10  # cut off early, not after 300 checks
    # node 0 forwarded none of it
    assert [messages(net, i)["refused"].get("bad_signature", 0) for i in (1, 2)] == others_before


def test_a_flood_from_unknown_keys_is_blamed_once_the_chain_view_catches_up(net: Network) -> None:
    """Fresh posts from unknown keys are IGNOREd (``chain_view_behind``: the key may be in a block
    node 0 has not applied yet). Once its view has applied everything up to their time, the keys
    are still unknown: each becomes an ``unknown_key`` REJECT of the peer that sent it."""
    before = messages(net)
    strangers = [Signer(os.urandom(32)) for _ in range(10)]
    with honest_chatter(net) as chatter, raw_peer(net) as attacker:
        # Dated a few seconds ahead: newer than node 0's chain view when they arrive, however
        # slowly; judged (and blamed) once its view has caught up with that time.
        at = int(time.time() * 1000) + 3000
        flood = [
            strangers[n % len(strangers)].envelope(net.community, Kind.POST, PostBody(f"buy now {n}"), at + n)
            for n in range(FLOOD)
        ]
        attacker.publish_many(flood)
        assert_banned_and_cut_off(net, attacker, {"unknown_key"})
    assert_delivered_everywhere(net, chatter)
    after = messages(net)
    ignored = after["refused"].get("chain_view_behind", 0) - before["refused"].get("chain_view_behind", 0)
    blamed = after["late_rejects"].get("unknown_key", 0) - before["late_rejects"].get("unknown_key", 0)
    assert ignored >= TO_GRAYLIST
    assert TO_GRAYLIST <= blamed <= ignored
    for index in range(3):
        assert all(not item["text"].startswith("buy now") for item in net.nodes[index].api.get("/v1/feed")["items"])


def test_a_flood_of_oversized_messages_gets_the_sender_banned(net: Network) -> None:
    """Envelopes over the protocol's 16 KiB are REJECTed ``oversized`` by validation; data over the
    gossip layer's 64 KiB cap is refused before validation is even asked (``over_size_cap``)."""
    before = messages(net)["refused"].get("oversized", 0)
    flood = []
    for n in range(FLOOD // 3):
        size = limits.MAX_MESSAGE_BYTES + 4000 if n % 2 == 0 else CONFIG.max_message_size + 36 * 1024
        flood.append(encode_envelope(n.to_bytes(4, "big") * (size // 4), bytes(64)))
    with honest_chatter(net) as chatter, raw_peer(net) as attacker:
        attacker.publish_many(flood)
        ban = assert_banned_and_cut_off(net, attacker, {"oversized", "over_size_cap"})
    assert_delivered_everywhere(net, chatter)
    assert ban["strikes"].get("oversized", 0) >= 1
    assert ban["strikes"].get("over_size_cap", 0) >= 1
    assert messages(net)["refused"].get("oversized", 0) - before == ban["strikes"]["oversized"]


def test_a_subscription_flood_gets_the_sender_banned_and_the_node_stays_healthy(net: Network) -> None:
    with honest_chatter(net) as chatter, raw_peer(net, mode="subflood") as attacker:
        assert_banned_and_cut_off(net, attacker, {"subscription_flood"})
        wait_until(lambda: attacker.seen(lambda e: e["event"] == "cut_off"), 30, "the flood's stream to be cut")
    assert_delivered_everywhere(net, chatter)
    assert net.status(0)["mesh_peers"] >= 1


# --- what an honest peer could send too: ignored, nobody blamed ----------------------------------


def test_a_member_beyond_the_rate_limit_is_throttled_with_a_reason_and_recovers(net: Network) -> None:
    counts_before = [net.status(i)["store"]["post"] for i in range(3)]

    def attempt(n: int) -> tuple[str | None, str | None]:
        try:
            return net.post(1, f"eager {n}"), None
        except ApiError as exc:
            return None, str(exc)

    # Three bursts' worth from six threads at once: far faster than 10/s on any machine.
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(attempt, range(limits.RATE_BURST * 3)))
    accepted = [post for post, _ in results if post is not None]
    refusals = [error for _, error in results if error is not None]
    assert len(refusals) >= 10, "the member was never throttled"
    assert all("rate_limited" in r and "faster than the community's rate limit" in r for r in refusals)
    assert len(accepted) >= limits.RATE_BURST - 5  # the burst (minus what earlier tests left used)
    home = str(net.nodes[1].config.home)
    shown = subprocess.run(
        [sys.executable, "-m", "node.cli", "status", "--home", home],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert "rate_limited" in shown
    member = net.dev.founders[1].address
    assert f"throttled {member[:6]}…{member[-4:]} " in shown
    assert net.status(1)["messages"]["throttled"][member] >= len(refusals)
    # what was accepted reached everyone, nothing else did
    wait_until(lambda: all(net.has_post(i, p) for i in (0, 2) for p in accepted), 60, "the accepted posts everywhere")
    assert [net.status(i)["store"]["post"] - counts_before[i] for i in range(3)] == [len(accepted)] * 3
    # once the bucket refills, the member posts again
    later = post_patiently(net, 1, "calm again")
    net.wait_post(later)


def test_a_members_flood_through_a_raw_peer_is_throttled_without_blaming_the_relay(net: Network) -> None:
    """A member's key flooding through some other peer: node 0 stores the burst, ignores the rest
    (``rate_limited``, an IGNORE: an honest relay cannot know our bucket) and forwards only what it
    stored."""
    before = messages(net)["refused"].get("rate_limited", 0)
    flood = [net.envelope(2, f"member flood {n}") for n in range(FLOOD)]
    with raw_peer(net) as attacker:
        attacker.publish_many(flood)
        wait_until(
            lambda: (
                messages(net)["refused"].get("rate_limited", 0) > before
                and len(flood_at(net, 0)) >= limits.RATE_BURST - 10
            ),
            30,
            "node 0 to store the burst and throttle the rest",
        )
        assert attacker.peer_id not in guard(net)["peers_with_strikes"]
        assert attacker.peer_id in connected_peers(net)
    # Nodes 1 and 2 got the flood only through node 0, so what they hold node 0 held first.
    elsewhere = [flood_at(net, 1), flood_at(net, 2)]
    stored_at_0 = flood_at(net, 0)
    assert len(stored_at_0) < FLOOD
    assert all(stored <= stored_at_0 for stored in elsewhere)


def flood_at(net: Network, index: int) -> set[str]:
    """The member-flood posts node ``index`` stores."""
    export = net.nodes[index].api.get(f"/v1/export?member={net.dev.founders[2].address}")
    return {m["text"] for m in export["messages"] if (m["text"] or "").startswith("member flood")}


def stored_envelopes(net: Network, index: int) -> list[bytes]:
    """Every post node ``index`` stores that is young enough to travel by gossip again."""
    oldest = int(time.time() * 1000) - limits.MAX_GOSSIP_AGE_MS + 60_000
    envelopes = []
    for founder in net.dev.founders:
        export = net.nodes[index].api.get(f"/v1/export?member={founder.address}")
        envelopes += [
            bytes.fromhex(m["envelope"])
            for m in export["messages"]
            if m["kind"] == "post" and m["timestamp_ms"] >= oldest
        ]
    return envelopes


def post_patiently(net: Network, index: int, text: str, timeout: float = 20) -> str:
    """Posts, waiting out the member's rate limit if earlier tests used it up."""
    result: list[str] = []

    def attempt() -> bool:
        try:
            result.append(net.post(index, text))
        except ApiError as exc:
            if "rate_limited" not in str(exc):
                raise
            return False
        return True

    wait_until(attempt, timeout, f"node {index} to accept a post within the rate limit")
    return result[0]


def test_replays_after_the_seen_cache_is_gone_are_ignored_not_blamed(net: Network) -> None:
    """Replays of stored posts once the seen cache no longer knows them. The cache lives in memory,
    so instead of waiting out its 120 s TTL we restart node 0: its store keeps every post, its seen
    cache starts empty, exactly as after expiry. Each replay then reaches validation and is a
    ``duplicate``: IGNOREd, neither stored again nor forwarded. Nobody is blamed, because an honest
    node that an attacker fed the same old posts relays them to us in good faith."""
    while len(stored_envelopes(net, 0)) < 150:
        post_patiently(net, len(stored_envelopes(net, 0)) % 3, "filler for the replay test")
    envelopes = stored_envelopes(net, 0)
    net.wait_post(decode_id(envelopes[-1]))
    node = net.nodes[0]
    node.stop()
    node.start()
    wait_until(lambda: net.status(0)["mesh_peers"] >= 1, 30, "node 0 back in the mesh")
    # posts still on their way (or brought by the sync after the restart) must not count as replays
    wait_until(lambda: len({net.status(i)["store"]["post"] for i in range(3)}) == 1, 60, "the nodes to converge")
    counts_before = [net.status(i)["store"]["post"] for i in range(3)]
    others_before = [messages(net, i)["duplicates"] for i in (1, 2)]
    with honest_chatter(net) as chatter, raw_peer(net) as attacker:
        attacker.publish_many(envelopes)
        wait_until(
            lambda: messages(net)["duplicates"] >= len(envelopes),
            30,
            f"node 0 to judge all {len(envelopes)} replays duplicates",
        )
        status = guard(net)
        assert attacker.peer_id not in status["peers_with_strikes"]
        assert not status["banned"]
        assert attacker.peer_id in connected_peers(net)
    assert_delivered_everywhere(net, chatter)
    assert messages(net)["refused"] == {}  # duplicates are not refusals
    counts_after = [net.status(i)["store"]["post"] for i in range(3)]
    assert counts_after == [before + len(chatter.ids) for before in counts_before]
    # node 0 forwarded none of them: the others saw no more duplicates than gossip's own
    others_after = [messages(net, i)["duplicates"] for i in (1, 2)]
    assert all(after - before < len(envelopes) // 10 for after, before in zip(others_after, others_before, strict=True))


def decode_id(envelope: bytes) -> str:
    return decode(envelope).id.hex()


# --- a peer that stops reading ----------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def unread_bytes(reader: RawPeer) -> int:
    reader.seen(lambda _: False)
    return max((int(e["bytes"]) for e in reader.events if e["event"] == "unread"), default=0)


def test_a_peer_that_never_reads_does_not_grow_the_nodes_memory(net: Network) -> None:
    """A peer subscribes and never reads. Node 0 pushes it a full yamux window, finds it stuck
    (``stalled`` in the status) and stops waiting for it; memory stays bounded and honest posts keep
    flowing. Node 1 stores the same posts without a stuck peer: it is the control for what storing
    them costs (SQLite's page cache grows with the database)."""
    pids = [node.process.pid for node in net.nodes[:2] if node.process is not None]
    with raw_peer(net, mode="slow") as reader:
        # two honest peers are below D_low, so node 0 grafts the slow peer and sends it everything
        wait_until(lambda: net.status(0)["mesh_peers"] >= 3, 30, "node 0 to graft the slow peer")
        baseline = [rss_bytes(pid) for pid in pids]
        with honest_chatter(net, interval=0.04, text_bytes=limits.MAX_TEXT_BYTES - 100) as chatter:
            wait_until(lambda: reader.peer_id in guard(net)["stalled"], 60, "node 0 to find the slow peer stuck")
        assert_delivered_everywhere(net, chatter)
        grown, control = (rss_bytes(pid) - before for pid, before in zip(pids, baseline, strict=True))
        unread = unread_bytes(reader)
    # A full 256 KiB window, less the few bytes of protocol negotiation the slow peer did read:
    # yamux credit goes back only once half the window is read (libp2p_compat/yamux.py).
    assert unread >= 255 * 1024, f"node 0 sent the slow peer only {unread} bytes"
    mib = 1024 * 1024
    assert grown < 50 * mib, f"node 0 grew by {grown / mib:.1f} MiB"
    assert grown < control + 16 * mib, f"node 0 grew by {grown / mib:.1f} MiB, node 1 by {control / mib:.1f} MiB"
