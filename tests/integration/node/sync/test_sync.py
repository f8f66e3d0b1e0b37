"""Sync between node processes: catching up after being offline, deletes and removals on the way."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from governance.anvil import Anvil
from governance.types import Support
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("sync"))
    yield network
    network.stop()


def _feed_ids(net: Network, index: int) -> set[str]:
    return {item["id"] for item in net.nodes[index].api.get("/v1/feed?limit=200")["items"]}


def test_a_node_that_was_offline_catches_up(net: Network) -> None:
    kept = net.post(0, "seen by the one that will leave")
    net.wait_post(kept)
    net.nodes[2].stop()
    missed = [net.post(i % 2, f"while node 2 was away #{i}") for i in range(30)]
    net.wait_post(missed[-1], nodes=[0, 1])
    doomed = missed[0]
    net.nodes[0].api.post("/v1/deletes", {"target": doomed})
    net.wait_post(doomed, present=False, nodes=[0, 1])
    net.nodes[2].start()
    expected = (set(missed) - {doomed}) | {kept}
    wait_until(lambda: expected <= _feed_ids(net, 2), 60, "node 2 to sync what it missed")
    assert doomed not in _feed_ids(net, 2)
    wait_until(lambda: net.status(2)["sync"]["sessions"] >= 1, 30, "node 2's sync session to be recorded")


def test_a_delete_missed_while_offline_still_wins(net: Network) -> None:
    post = net.post(1, "I will regret this")
    net.wait_post(post)
    net.nodes[2].stop()  # node 2 keeps the post
    net.nodes[1].api.post("/v1/deletes", {"target": post})
    net.wait_post(post, present=False, nodes=[0, 1])
    net.nodes[2].start()
    net.wait_post(post, present=False)  # the delete arrives by sync and purges it
    # and node 2's copy never comes back to the others: sync once more, explicitly, and look again
    wait_until(lambda: net.status(2)["sync"]["sessions"] >= 2, 60, "node 2 to sync with both peers")
    assert all(post not in _feed_ids(net, i) for i in range(3))


def test_a_removed_members_earlier_posts_survive_sync(net: Network, anvil: Anvil) -> None:
    net.nodes[0].stop()  # node 0 is offline while node 2's author posts and is removed
    before = net.post(2, "written while still a member")
    net.wait_post(before, nodes=[1, 2])
    a, b = net.client(0), net.client(1)  # (the chain does not need node 0)
    created, _ = a.propose_remove_member(net.dev.founders[2].address, "moved away")
    a.cast_vote(created.proposal_id, Support.FOR)
    b.cast_vote(created.proposal_id, Support.FOR)
    # Block times have whole seconds: stamp the removal two seconds after the post, so the post
    # is unambiguously older than the removal (as it would be on a real chain, where blocks
    # take seconds anyway).
    anvil.rpc("evm_setNextBlockTimestamp", [int(time.time()) + 2])
    block = a.execute(created).block_number
    wait_until(lambda: (net.status(1)["chain"]["cursor"] or 0) >= block, 60, "node 1 to see the removal")
    net.nodes[0].start()
    wait_until(lambda: before in _feed_ids(net, 0), 60, "node 0 to sync the earlier post")


def test_an_erase_reaches_a_node_that_was_away(net: Network) -> None:
    posts = [net.post(1, f"thoughts I will take back #{i}") for i in range(5)]
    for post in posts:
        net.wait_post(post)
    net.nodes[0].stop()  # node 0 keeps its copies of node 1's posts
    net.nodes[1].api.post("/v1/erase", {})
    for post in posts:
        net.wait_post(post, present=False, nodes=[1, 2])
    net.nodes[0].start()
    for post in posts:
        net.wait_post(post, present=False)  # the erase arrives by sync and purges node 0's copies
    # and node 0's copies never come back to the others
    wait_until(lambda: net.status(0)["sync"]["sessions"] >= 2, 60, "node 0 to sync with its peers")
    assert all(not net.has_post(i, p) for i in range(3) for p in posts)
