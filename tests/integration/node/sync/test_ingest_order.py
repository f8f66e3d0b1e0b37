"""A batch of synced messages is judged cheapest check first, like a single message: only what
passes the key and membership lookups costs a signature check (wire format, section 5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.core import signing
from node.core.encoding import decode
from node.core.types import Community, DeleteBody, Kind, Message, PostBody
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


def test_a_copy_with_a_forged_signature_does_not_stand_for_the_good_one(service: NodeService) -> None:
    # two copies of one message (same signed bytes, so the same id), the first one forged: the
    # batch judges each copy by its own signature, stores the good one and blames the forgery
    good = post("alice", 1)
    forged = bytearray(good)
    forged[-1] ^= 1
    outcome = service.ingest_batch([bytes(forged), good], Via.SYNC, "peer")
    assert (outcome.added, outcome.rejected) == (1, Counter(bad_signature=1))
    assert service.store.messages.envelope(decode(good).id) == good


def test_a_batch_longer_than_a_slice_is_stored_whole_once(service: NodeService) -> None:
    # more than one verification slice, with copies of messages across slices and within one
    posts = [post("alice", n) for n in range(300)]
    outcome = service.ingest_batch([*posts, *posts[:40], posts[250]], Via.SYNC, "peer")
    assert outcome.added == len(posts)
    assert service.store.messages.counts()["post"] == len(posts)
    assert [h.text for h in service.store.search.find("post 250")] == ["post 250 by alice"]


def test_a_delete_in_a_batch_beats_its_post_in_the_next_slice(service: NodeService) -> None:
    target = post("alice", 7)
    delete = envelope("alice", Kind.DELETE, DeleteBody(decode(target).id), NOW_MS - 30_000)
    # the delete in the second slice of verification, its post in the third, which is screened
    # while the second is still being checked, before the delete is stored
    filler = [post("alice", n) for n in range(100, 360)]
    outcome = service.ingest_batch([*filler[:130], delete, *filler[130:], target], Via.SYNC, "peer")
    assert outcome.added == 1 + len(filler)
    assert not service.store.messages.has_message(decode(target).id)
    assert service.store.search.find("post 7") == []
