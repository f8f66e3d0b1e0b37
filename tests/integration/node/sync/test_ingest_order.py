"""A batch of synced messages is judged cheapest check first, like a single message: only what
passes the key and membership lookups costs a signature check (wire format, section 5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.core import signing
from node.core.encoding import decode
from node.core.types import Community, Kind, Message, PostBody
from node.core.validation import Via
from node.daemon.service import NodeService
from node.store import Store
from tests.unit.node.core.helpers import COMMUNITY, NOW_MS, T0, envelope, remove, signer, view_with


@pytest.fixture
def service(tmp_path: Path) -> Iterator[NodeService]:
    store = Store.open(tmp_path / "node.db")
    view = view_with("alice", "bob")
    remove(view, "bob", T0 + 60)
    yield NodeService(store, view, signer("alice"), COMMUNITY, clock=lambda: NOW_MS / 1000)
    store.close()


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The ids of the messages whose signature was checked (from any thread)."""
    calls: list[bytes] = []
    real = signing.verify

    def counting(message: Message) -> bool:
        calls.append(message.id)
        return real(message)

    monkeypatch.setattr(signing, "verify", counting)
    return calls


def post(name: str, n: int, community: Community = COMMUNITY) -> bytes:
    return envelope(name, Kind.POST, PostBody(f"post {n} by {name}"), NOW_MS - 60_000 + n, community)


def test_only_what_passes_the_cheaper_checks_is_verified(service: NodeService, verified: list[bytes]) -> None:
    good = [post("alice", n) for n in range(5)]
    strangers = [post("mallory", n) for n in range(200)]  # a key nobody authorised
    gone = [post("bob", n) for n in range(20)]  # signed after bob left
    elsewhere = [post("alice", n, Community(1, bytes(20))) for n in range(3)]
    forged = bytearray(post("alice", 99))
    forged[-1] ^= 1  # the last byte of the signature
    outcome = service.ingest_batch([*strangers, *good, *gone, *elsewhere, bytes(forged)], Via.SYNC, "peer")
    assert outcome.added == len(good)
    assert sorted(verified) == sorted(decode(e).id for e in [*good, bytes(forged)])
    assert outcome.verified == len(good) + 1
    assert outcome.rejected == Counter(
        unknown_key=len(strangers), not_a_member=len(gone), wrong_community=len(elsewhere), bad_signature=1
    )


def test_duplicates_cost_no_signature_check(service: NodeService, verified: list[bytes]) -> None:
    good = [post("alice", n) for n in range(5)]
    assert service.ingest_batch(good, Via.SYNC, "peer").added == len(good)
    verified.clear()
    again = service.ingest_batch(good, Via.SYNC, "peer")
    assert (again.added, again.verified, verified) == (0, 0, [])
    assert service.counters.duplicates == len(good)
