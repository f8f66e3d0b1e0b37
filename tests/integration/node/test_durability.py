"""SIGKILL at random moments while a node ingests thousands of posts: nothing acknowledged is lost,
the database stays intact, and the chain cursor and view stay consistent with the chain."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import trio

from governance.anvil import Anvil
from governance.client import CommunityClient
from governance.devchain import deploy_dev_community
from node.chain import ChainWatcher
from node.config import read_secret
from node.core.signing import Signer
from node.core.types import Community
from node.errors import NodeError
from node.harness.history import fill_store, make_posts
from node.harness.process import NodeProcess, app_key_of, peer_addr, prepare_home, wait_until
from node.store import Store

POSTS = 4000


def _post_until(node: NodeProcess, stop: threading.Event, acked: list[str]) -> None:
    """Posts through the API as fast as it answers; records what it acknowledged."""
    n = 0
    while not stop.is_set():
        try:
            acked.append(node.api.post("/v1/posts", {"text": f"acknowledged #{n}"})["id"])
        except NodeError:
            time.sleep(0.05)  # killed, restarting, or rate-limited: try again
        n += 1


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def test_sigkill_while_ingesting_loses_nothing_acknowledged(anvil: Anvil, tmp_path: Path) -> None:
    dev = deploy_dev_community(anvil, founders=2)
    homes = {}
    for index, name in enumerate(["a", "b"]):
        config = prepare_home(
            tmp_path / name, rpc_url=anvil.rpc_url, community=dev.address, chain_id=dev.chain_id, name=name
        )
        dev.client(dev.founders[index]).add_key(app_key_of(config))
        homes[name] = config
    community = Community(dev.chain_id, bytes.fromhex(dev.address[2:]))
    posts = make_posts([Signer(read_secret(homes["b"].app_key_path, 32))], community, POSTS)
    fill_store(homes["b"], dev.client(), posts)
    b = NodeProcess(homes["b"]).start()
    a_config = homes["a"].with_changes(bootstrap=(peer_addr(homes["b"]),))
    a_config.save()
    a = NodeProcess(a_config)
    rng = random.Random(2026)
    acked: list[str] = []
    kills = 0
    try:
        for _ in range(4):
            a.start()
            stop = threading.Event()
            writer = threading.Thread(target=_post_until, args=(a, stop, acked))
            writer.start()
            time.sleep(rng.uniform(0.3, 2.0))  # a random moment while it syncs and takes posts
            a.kill()
            kills += 1
            stop.set()
            writer.join()
        a.start()
        db = a_config.db_path
        assert _query(db, "PRAGMA integrity_check") == [("ok",)]
        wait_until(lambda: a.api.get("/v1/status")["store"]["post"] >= POSTS, 120, "node a to finish syncing")
        stored = {bytes(r[0]).hex() for r in _query(db, "SELECT id FROM messages")}
        missing = [i for i in acked if i not in stored]
        assert acked, "the API acknowledged no post at all"
        assert missing == [], f"{len(missing)} acknowledged posts lost"
        assert kills == 4
        _check_chain_state(a, dev.client(), tmp_path)
    finally:
        a.stop()
        b.stop()


def _check_chain_state(node: NodeProcess, client: CommunityClient, tmp_path: Path) -> None:
    """The node's cursor, applied logs and view equal what a fresh follower of the chain builds."""
    db = node.config.db_path
    fresh = Store.open(tmp_path / "fresh.db")
    watcher = ChainWatcher(client, fresh, fresh.chain.load_view())

    async def catch_up() -> None:
        while await watcher.poll_once():
            pass

    trio.run(catch_up)
    view = fresh.chain.load_view()
    expected_members = sorted((a, s, e) for a, recs in view.members.items() for s, e in recs.intervals)
    members = sorted(_query(db, "SELECT address, start_ms, end_ms FROM members"))
    assert members == expected_members
    keys = sorted(_query(db, "SELECT key, owner, added_ms, revoked_ms FROM app_keys"))
    expected_keys = sorted((k.key, k.owner, k.added_ms, k.revoked_ms) for k in view.keys.values())
    assert keys == expected_keys
    (applied,) = _query(db, "SELECT COUNT(*) FROM applied_logs")[0]
    (cursor_block,) = _query(db, "SELECT block_number FROM chain_cursor")[0]
    assert applied == len(client.events(to_block=cursor_block))
    fresh.close()
