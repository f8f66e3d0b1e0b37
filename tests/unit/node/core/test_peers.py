"""Peer records (kind PEER): the binding of an app key to a libp2p peer id, and every refusal."""

from __future__ import annotations

import hashlib

import msgpack
import pytest
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.id import ID

from node.core import limits, peers
from node.core.encoding import decode, encode_body, encode_envelope
from node.core.types import Community, Kind, PeerBody
from node.core.validation import Context, Via, validate
from node.core.verdict import Outcome, Reason

from .helpers import COMMUNITY, NOW_MS, MemoryKnown, envelope, signer, view_with

P2P_SEED = hashlib.sha256(b"a node's libp2p seed").digest()
ADDR = bytes.fromhex("047f000001060fa1")  # /ip4/127.0.0.1/tcp/4001
DAY_MS = 86_400_000


def record(
    name: str = "alice",
    ts: int = NOW_MS,
    ttl: int = DAY_MS,
    seed: bytes = P2P_SEED,
    bound_to: str | None = None,
    community: Community = COMMUNITY,
) -> PeerBody:
    key = signer(bound_to or name).public_key
    peer_id, binding = peers.sign_binding(seed, community, key, ts + ttl)
    return PeerBody(peer_id, (ADDR,), ts + ttl, binding)


def judge(data: bytes, now: int = NOW_MS, via: Via = Via.GOSSIP) -> tuple[Outcome, Reason | None]:
    verdict = validate(data, Context(COMMUNITY, now, via), view_with("alice", "bob"), MemoryKnown())
    return verdict.outcome, verdict.reason


def test_the_peer_id_is_the_one_libp2p_derives_and_base58_round_trips() -> None:
    pair = create_new_key_pair(P2P_SEED)
    expected = ID.from_pubkey(pair.public_key)
    peer_id, _ = peers.sign_binding(P2P_SEED, COMMUNITY, signer("alice").public_key, NOW_MS)
    assert peer_id == expected.to_bytes()
    assert peers.peer_id_text(peer_id) == expected.to_base58()
    assert peers.peer_id_bytes(expected.to_base58()) == peer_id
    assert peers.peer_public_key(peer_id) == pair.public_key.to_bytes()


def test_a_members_record_is_accepted_and_round_trips() -> None:
    body = record()
    data = envelope("alice", Kind.PEER, body)
    assert judge(data) == (Outcome.ACCEPT, None)
    assert decode(data).body == body


def test_an_expired_record_is_ignored_by_gossip_and_sync_alike() -> None:
    data = envelope("alice", Kind.PEER, record(ttl=60_000))
    assert judge(data, now=NOW_MS + 60_000) == (Outcome.IGNORE, Reason.EXPIRED)
    assert judge(data, now=NOW_MS + 60_000, via=Via.SYNC) == (Outcome.IGNORE, Reason.EXPIRED)
    assert judge(data, now=NOW_MS + 59_999) == (Outcome.ACCEPT, None)


def test_a_binding_to_another_app_key_is_rejected() -> None:
    """bob signs a record carrying alice's node: the node vouched for alice's key, not bob's."""
    data = envelope("bob", Kind.PEER, record(bound_to="alice"))
    assert judge(data) == (Outcome.REJECT, Reason.BAD_BINDING)


def test_a_binding_for_another_community_or_expiry_is_rejected() -> None:
    other = record(community=Community(COMMUNITY.chain_id + 1, COMMUNITY.contract))
    assert judge(envelope("alice", Kind.PEER, other)) == (Outcome.REJECT, Reason.BAD_BINDING)
    good = record()
    stretched = PeerBody(good.peer_id, good.addrs, good.expires_ms + 1, good.binding)
    assert judge(envelope("alice", Kind.PEER, stretched)) == (Outcome.REJECT, Reason.BAD_BINDING)


def test_someone_elses_peer_id_is_rejected() -> None:
    good = record()
    theirs, _ = peers.sign_binding(hashlib.sha256(b"another node").digest(), COMMUNITY, signer("alice").public_key, 0)
    forged = PeerBody(theirs, good.addrs, good.expires_ms, good.binding)
    assert judge(envelope("alice", Kind.PEER, forged)) == (Outcome.REJECT, Reason.BAD_BINDING)


@pytest.mark.parametrize("ttl", [0, -1, limits.MAX_PEER_RECORD_TTL_MS + 1])
def test_an_expiry_outside_the_window_is_bad_content(ttl: int) -> None:
    """Judged a little before the record's own time (clocks differ), so it is not merely expired."""
    data = envelope("alice", Kind.PEER, record(ttl=ttl))
    assert judge(data, now=NOW_MS - 120_000) == (Outcome.REJECT, Reason.BAD_CONTENT)


def test_a_record_in_a_room_is_bad_content() -> None:
    body = record()
    key = signer("alice")
    signed = encode_body(COMMUNITY, Kind.PEER, key.public_key, NOW_MS, "ab" * 32, body)
    assert judge(encode_envelope(signed, key.sign(signed))) == (Outcome.REJECT, Reason.BAD_CONTENT)


def _raw(payload: list[object]) -> bytes:
    key = signer("alice")
    signed = msgpack.packb(
        [1, COMMUNITY.chain_id, COMMUNITY.contract, int(Kind.PEER), key.public_key, NOW_MS, "", payload],
        use_bin_type=True,
    )
    return encode_envelope(signed, key.sign(signed))


def test_the_payload_rules() -> None:
    good = record()
    base = [good.peer_id, [ADDR], good.expires_ms, good.binding]
    cases: list[tuple[list[object], Reason]] = [
        ([good.peer_id[1:], [ADDR], good.expires_ms, good.binding], Reason.BAD_CONTENT),  # not an ed25519 id
        ([b"\x12\x20" + bytes(32), [ADDR], good.expires_ms, good.binding], Reason.BAD_CONTENT),  # sha256 multihash
        ([good.peer_id, [], good.expires_ms, good.binding], Reason.BAD_CONTENT),
        ([good.peer_id, [ADDR + bytes([i]) for i in range(9)], good.expires_ms, good.binding], Reason.BAD_CONTENT),
        ([good.peer_id, [ADDR, ADDR], good.expires_ms, good.binding], Reason.BAD_CONTENT),
        ([good.peer_id, [bytes(129)], good.expires_ms, good.binding], Reason.MALFORMED),
        ([good.peer_id, ["/ip4/1.2.3.4"], good.expires_ms, good.binding], Reason.MALFORMED),
        ([good.peer_id, [ADDR], good.expires_ms, good.binding[:63]], Reason.MALFORMED),
        (base[:3], Reason.MALFORMED),
    ]
    assert judge(_raw(base)) == (Outcome.ACCEPT, None)
    for payload, reason in cases:
        assert judge(_raw(payload)) == (Outcome.REJECT, reason), payload
