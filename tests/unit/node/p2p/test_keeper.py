"""The connection keeper's choices: members' nodes first, the missing connections only, and
exponential backoff from dead addresses (the dialling itself: tests/integration/node/test_discovery.py)."""

from __future__ import annotations

from unittest.mock import Mock

from node.p2p.keeper import Candidate, ConnectionKeeper


def keeper(candidates: list[Candidate], target: int = 2) -> ConnectionKeeper:
    host = Mock()
    host.peer_id = "self"
    return ConnectionKeeper(host, lambda: candidates, target=target, interval=1.0, max_backoff=8.0)


BOOK = Candidate("member", ("/a/p2p/member",), 0)
BOOT = Candidate("boot", ("/b/p2p/boot",), 1)
LAN = Candidate("lan", ("/c/p2p/lan",), 2, vouch=lambda _: False)
SELF = Candidate("self", ("/d/p2p/self",), 0)


def test_members_nodes_come_first_and_only_the_missing_connections_are_dialled() -> None:
    k = keeper([LAN, BOOT, SELF, BOOK], target=2)
    assert [c.peer_id for c in k.choose(set(), 0.0)] == ["member", "boot"]
    assert [c.peer_id for c in k.choose({"member"}, 0.0)] == ["boot"]
    assert k.choose({"member", "boot"}, 0.0) == []


def test_a_dead_address_backs_off_exponentially_up_to_the_cap_and_a_success_resets_it() -> None:
    k = keeper([BOOK, BOOT], target=1)
    delays = [k.failed("/a/p2p/member", 0.0) for _ in range(6)]
    for delay, expected in zip(delays[:4], [1, 2, 4, 8], strict=True):
        assert 0.9 * expected <= delay <= 1.1 * expected  # within the 10 % jitter
    assert all(7.2 <= d <= 8.8 for d in delays[3:])
    assert [c.peer_id for c in k.choose(set(), 5.0)] == ["boot"]  # the member's only address waits
    assert [c.peer_id for c in k.choose(set(), 9.0)] == ["member"]
    k.succeeded("/a/p2p/member")
    assert k.due("/a/p2p/member", 0.0)
