"""What one peer may take from a node across sessions: two real hosts in one process (the node's
``SyncService`` over a real SQLite store, and the attacker of sync_peer.py), with the node's
allowance set small and its clock in the test's hands, so the bounds show without waiting."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio

from node.core.syncbudget import SESSION_BURST, PeerAllowance
from node.core.types import Kind, PostBody
from node.core.validation import Via
from node.daemon.service import NodeService
from node.p2p import open_host
from node.store import Store
from node.sync.service import SyncService
from tests.unit.node.core.helpers import COMMUNITY, NOW_MS, envelope, signer, view_with

from .sync_peer import asks

POSTS = 40


@dataclass
class Ledger:
    """The node's defence, as sync sees it: strikes recorded, nobody banned."""

    strikes: list[tuple[str, str]] = field(default_factory=list)

    def blame(self, peer_id: str, reason: str) -> None:
        self.strikes.append((peer_id, reason))

    def is_banned(self, peer_id: str) -> bool:
        return False


@pytest.fixture
def service(tmp_path: Path) -> Iterator[NodeService]:
    store = Store.open(tmp_path / "node.db")
    node = NodeService(store, view_with("alice"), signer("alice"), COMMUNITY, clock=lambda: NOW_MS / 1000)
    posts = [envelope("alice", Kind.POST, PostBody(f"post {n}"), NOW_MS - 60_000 + n) for n in range(POSTS)]
    assert node.ingest_batch(posts, Via.SYNC).added == POSTS
    yield node
    store.close()


def attack(
    service: NodeService, allowance: PeerAllowance, sessions: int, seed: bytes
) -> tuple[list[dict[str, int]], SyncService]:
    """Runs ``sessions`` sessions from the attacker of ``seed``, asking for everything once in each."""
    out: list[list[dict[str, int]]] = []
    ledger = Ledger()

    async def body() -> SyncService:
        async with open_host(os.urandom(32)) as node, open_host(seed) as attacker:
            sync = SyncService(node, service, ledger)
            sync.allowance = allowance
            sync.register()
            await attacker.connect(node.addrs[0])
            with trio.fail_after(60):
                out.append(await asks(attacker, node.peer_id, sessions, 1))
            return sync

    sync = trio.run(body)
    assert ledger.strikes == []  # asking once per session is what an honest late joiner does
    return out[0], sync


def test_the_bytes_a_peer_is_given_are_bounded_across_sessions(service: NodeService) -> None:
    everything = sum(map(len, service.store.messages.envelopes([i for _, i in service.store.messages.sync_keys()])))
    allowance = PeerAllowance(lambda: 0.0, session_refill_s=1e-9, give_burst=2 * everything + everything // 2)
    got, sync = attack(service, allowance, 6, os.urandom(32))
    assert [s["envelopes"] for s in got] == [POSTS, POSTS, 0, 0, 0, 0]
    assert sum(s["bytes"] for s in got) <= 2 * everything + everything // 2
    assert all("given all it may have" in (r.error or "") for r in list(sync.history)[2:])


def test_a_peer_opens_a_few_sessions_in_a_row_then_one_per_refill(service: NodeService) -> None:
    now = [0.0]
    allowance = PeerAllowance(lambda: now[0], session_refill_s=10.0)
    seed = os.urandom(32)
    got, sync = attack(service, allowance, SESSION_BURST + 2, seed)
    assert [s["envelopes"] for s in got] == [POSTS] * SESSION_BURST + [0, 0]
    assert sync.refused == {"too_often": 2}
    now[0] = 10.0  # one refill later: one more
    got, sync = attack(service, allowance, 2, seed)
    assert [s["envelopes"] for s in got] == [POSTS, 0]
