"""The chain watcher on a real Anvil and a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import trio

from governance.client import CommunityClient, connect_web3
from governance.devchain import DevCommunity
from governance.types import Support
from node.chain import ChainWatcher, WatcherConfig
from node.store import Store

FAST = WatcherConfig(poll_interval=0.05, max_range=3)


def _catch_up(watcher: ChainWatcher) -> None:
    async def main() -> None:
        with trio.fail_after(30):
            while await watcher.poll_once():
                pass

    trio.run(main)


def _hide(community: DevCommunity, post: bytes) -> None:
    a, b = community.client(community.founders[0]), community.client(community.founders[1])
    created, _ = a.propose_hide_post(post, "spam")
    a.cast_vote(created.proposal_id, Support.FOR)
    b.cast_vote(created.proposal_id, Support.FOR)
    a.execute(created)


def test_follows_members_keys_and_hides(community: DevCommunity, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "node.db")
    a = community.client(community.founders[0])
    a.add_key(b"\x01" * 32)
    _hide(community, b"\xaa" * 32)
    watcher = ChainWatcher(community.client(), store, store.chain.load_view(), FAST)
    _catch_up(watcher)
    view = watcher.view
    assert {m for m in view.members if view.is_member(m)} == {f.address for f in community.founders}
    assert view.owner_of(b"\x01" * 32) == community.founders[0].address
    assert b"\xaa" * 32 in view.hidden
    assert watcher.status.healthy
    assert watcher.status.lag == 0
    applied = watcher.status.events_applied
    assert applied >= 6  # 3 MemberAdded, KeyAdded, proposal, votes, execution, PostHidden
    store.close()

    # restart: the cursor resumes; nothing is applied twice
    reopened = Store.open(tmp_path / "node.db")
    again = ChainWatcher(community.client(), reopened, reopened.chain.load_view(), FAST)
    _catch_up(again)
    assert again.status.events_applied == 0
    assert b"\xaa" * 32 in again.view.hidden
    a.revoke_key(b"\x01" * 32)
    _catch_up(again)
    assert again.status.events_applied == 1
    assert again.view.keys[b"\x01" * 32].revoked_ms is not None
    reopened.close()


def test_a_dead_endpoint_is_reported_not_raised(community: DevCommunity, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "node.db")
    dead = CommunityClient(connect_web3("http://127.0.0.1:9", timeout=1.0), community.address)
    watcher = ChainWatcher(dead, store, store.chain.load_view(), WatcherConfig(poll_interval=0.01, max_backoff=0.05))

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watcher.run)
            with trio.fail_after(10):
                while watcher.status.last_error is None:
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert not watcher.status.healthy
    assert "cannot reach the chain at http://127.0.0.1:9" in (watcher.status.last_error or "")
    store.close()
