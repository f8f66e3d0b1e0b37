"""Attacks on sync from a raw libp2p peer (sync_peer.py) while honest nodes keep syncing.

Three node processes on a real Anvil, syncing every second; each attacker is a separate process
with a fresh peer id. What the tests assert is behaviour: which sessions ran while which others
were held open (by the nodes' own records of when each started and how long it took), what the
attacker got, what the node counted, whom it struck and banned.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from governance.anvil import Anvil
from node.core import syncbudget
from node.harness.cluster import Network, start_network
from node.harness.process import peer_addr, wait_until
from node.p2p.config import GossipConfig
from tests.integration.node.network import RawPeer

from .sync_peer import FLOOD_POSTS

STRIKES_TO_BAN = GossipConfig().max_strikes


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("sync-attacks"), configure=_every_second)
    yield network
    network.stop()


def _every_second(config: Any) -> Any:
    return config.with_changes(sync_interval=1.0)


@contextmanager
def sync_peer(net: Network, index: int, mode: str, *options: str) -> Iterator[RawPeer]:
    """An attacker (sync_peer.py) connected to node ``index``."""
    target = peer_addr(net.nodes[index].config)
    args = ["--bootstrap", target, "--mode", mode, *options]
    peer = RawPeer.spawn(net, "tests.integration.node.sync.sync_peer", target, args)
    try:
        peer.wait_for(lambda e: e["event"] == "ready")
        peer.wait_for(lambda e: e["event"] == "peers" and peer.target in e["peers"])
        yield peer
    finally:
        peer.stop()


def sync(net: Network, index: int) -> dict[str, Any]:
    result: dict[str, Any] = net.status(index)["sync"]
    return result


def guard(net: Network, index: int) -> dict[str, Any]:
    result: dict[str, Any] = net.status(index)["guard"]
    return result


def peer_ids(net: Network) -> list[str]:
    return [str(net.status(i)["peer_id"]) for i in range(len(net.nodes))]


Key = tuple[str, bool, float]  # a session: (peer, initiator, started_at)


def key(record: dict[str, Any]) -> Key:
    return (record["peer"], record["initiator"], record["started_at"])


def ended(record: dict[str, Any]) -> float:
    return float(record["started_at"]) + float(record["seconds"])


@dataclass
class Sessions:
    """Every session record of node ``index`` seen so far: its status keeps only the last 20
    (a few seconds' worth at one sync a second), so each look is kept."""

    net: Network
    index: int
    done: dict[Key, dict[str, Any]] = field(default_factory=dict)
    running: set[Key] = field(default_factory=set)

    def look(self) -> Sessions:
        status = sync(self.net, self.index)
        for record in [*status["history"], *status["last"].values()]:
            self.done[key(record)] = record
        self.running = {key(r) for r in status["open"]} - set(self.done)
        return self

    def of(self, peers: set[str], initiator: bool) -> list[dict[str, Any]]:
        """The finished sessions of ``peers`` opened by us (``initiator``) or by them."""
        return [r for r in self.done.values() if r["peer"] in peers and r["initiator"] is initiator]

    def wait_running(self, peers: set[str], initiator: bool, count: int) -> list[Key]:
        """Waits until ``count`` sessions of ``peers`` run at once; returns them."""
        found: list[Key] = []

        def enough() -> bool:
            found[:] = [k for k in self.look().running if k[0] in peers and k[1] is initiator]
            return len(found) >= count

        wait_until(enough, 30, f"{count} sessions of {sorted(peers)} running")
        return found

    def honest_while_held(self, honest: set[str], initiator: bool, held: list[Key]) -> bool:
        """Whether a session with an honest peer (opened by us: ``initiator``) started after the
        ``held`` ones and ended, without error, before the first of them did."""
        self.look()
        start = max(k[2] for k in held)
        ends = [float("inf") if k in self.running else ended(self.done[k]) if k in self.done else 0.0 for k in held]
        return any(
            start < r["started_at"] and ended(r) < min(ends) and not r["error"] for r in self.of(honest, initiator)
        )


def test_a_silent_peer_does_not_hold_up_syncing_with_the_others(net: Network) -> None:
    """The node with the lowest peer id starts every session with the others. A peer that takes
    its sync stream and never answers must not stop those sessions, and is let go after one step's
    deadline."""
    ids = peer_ids(net)
    leader = ids.index(min(ids))
    honest = {p for p in ids if p != ids[leader]}
    sessions = Sessions(net, leader)
    with sync_peer(net, leader, "hold") as attacker:
        attacker.wait_for(lambda e: e["event"] == "held")
        held = sessions.wait_running({attacker.peer_id}, True, 1)
        wait_until(
            lambda: sessions.honest_while_held(honest, True, held),
            60,
            "the leader to sync with an honest peer while the silent one holds its session",
        )
        attacker.wait_for(lambda e: e["event"] == "released", 60)
        wait_until(lambda: held[0] in sessions.look().done, 30, "the silent session's record")
    assert "sent nothing" in sessions.done[held[0]]["error"]


def test_silent_incoming_sessions_do_not_lock_out_honest_peers(net: Network) -> None:
    """Two attackers open two sync streams each to the node the others lead (the highest peer id)
    and never write: one session per peer is admitted, the rest refused, and honest peers' sessions
    keep being admitted meanwhile; the silent ones are closed after one step's deadline."""
    ids = peer_ids(net)
    follower = ids.index(max(ids))
    honest = {p for p in ids if p != ids[follower]}
    sessions = Sessions(net, follower)
    with ExitStack() as stack:
        attackers = [stack.enter_context(sync_peer(net, follower, "hold", "--streams", "2")) for _ in range(2)]
        names = {a.peer_id for a in attackers}
        for attacker in attackers:
            for _ in range(2):
                attacker.wait_for(lambda e: e["event"] == "opened")
        held = sessions.wait_running(names, False, 2)
        wait_until(
            lambda: sessions.honest_while_held(honest, False, held),
            60,
            "an honest peer's session while the attackers hold theirs",
        )
        assert {k[0] for k in held} == names, "two sessions of one peer at once"
        for attacker in attackers:
            for _ in range(2):
                attacker.wait_for(lambda e: e["event"] == "released" and e["mine"], 60)
        wait_until(lambda: all(k in sessions.look().done for k in held), 30, "the silent sessions' records")
    assert sync(net, follower)["refused"].get("busy_peer", 0) >= 2
    assert all("sent nothing" in sessions.done[k]["error"] for k in held)


def test_message_frames_count_toward_the_sessions_limit(net: Network) -> None:
    frames = 3 * syncbudget.MAX_FRAMES
    sessions = Sessions(net, 0)
    with sync_peer(net, 0, "frames", "--frames", str(frames)) as attacker:
        attacker.wait_for(lambda e: e["event"] == "wrote", 60)
        wait_until(lambda: sessions.look().of({attacker.peer_id}, False), 30, "the node to end the session")
        [record] = sessions.of({attacker.peer_id}, False)
        strikes = guard(net, 0)["peers_with_strikes"].get(attacker.peer_id)
    assert record["frames"] == syncbudget.MAX_FRAMES + 1
    assert "frames" in record["error"]
    assert strikes is not None
    assert strikes["reasons"] == {syncbudget.OVER_LIMIT: 1}


def test_a_flood_from_an_unknown_key_costs_no_signature_checks_and_ends_in_a_ban(net: Network) -> None:
    refused_before = net.refused(0).get("unknown_key", 0)
    sessions = Sessions(net, 0)
    options = ["--frames", "50", "--chain-id", str(net.dev.chain_id), "--contract", net.dev.address]
    with sync_peer(net, 0, "flood", *options) as attacker:
        second = attacker.wait_for(lambda e: e["event"] == "second_stream", 60)
        wait_until(attacker.was_disconnected, 30, "the attacker to see its connection closed")
        wait_until(lambda: sessions.look().of({attacker.peer_id}, False), 30, "the node to record the session")
        [record] = sessions.of({attacker.peer_id}, False)
        ban = next((b for b in guard(net, 0)["banned"] if b["peer"] == attacker.peer_id), None)
    assert record["received"] >= FLOOD_POSTS
    assert record["verified"] == 0
    assert record["rejected"] == record["received"]
    assert net.refused(0).get("unknown_key", 0) - refused_before == record["received"]
    assert ban is not None
    assert ban["strikes"] == {"unknown_key": STRIKES_TO_BAN}
    assert not second["opened"]


def test_asking_for_everything_again_gets_nothing_more(net: Network) -> None:
    """An attacker asks for everything in every turn of every session: nothing is given twice in
    one session (asking again is a strike and ends it). Across sessions, the per-peer allowance
    bounds it (test_give_budget.py)."""
    for n in range(30):
        net.post(n % 3, f"something to ask for #{n}")
    sessions = 5
    with sync_peer(net, 0, "asks", "--sessions", str(sessions), "--asks", "64") as attacker:
        got = [attacker.wait_for(lambda e: e["event"] == "session", 60) for _ in range(sessions)]
        wait_until(lambda: attacker.peer_id in guard(net, 0)["peers_with_strikes"], 30, "a strike")
        strikes = guard(net, 0)["peers_with_strikes"][attacker.peer_id]["reasons"]
    offered = sum(n for kind, n in net.status(0)["store"].items() if kind not in ("hidden", "tombstones"))
    assert got[0]["distinct"] >= 30
    assert all(s["envelopes"] == s["distinct"] <= offered for s in got), got
    assert all(s["asks"] <= 2 for s in got), got  # the second ask ended each session
    assert strikes.get(syncbudget.ASKED_AGAIN, 0) >= 1
