"""The fixed world every published vector is judged in: the community, the people and their
keys (from published seeds), the view of the chain, the current time.

Two keys have no seed: a small-order point and a mixed-order one (alice's key plus a point of
order 8), authorised on-chain like any other key (the contract stores any 32 bytes), so that the
signature rules for such keys (spec section 3) have vectors.
"""

from __future__ import annotations

import hashlib

from node.core.signing import Signer
from node.core.types import AppKey, Body, Community, Kind, MessageId
from node.core.view import CommunityView, KeyRecord, MemberRecord

from . import ed25519_math as ed

COMMUNITY = Community(31337, bytes.fromhex("700b6a60ce7eaaea56f065753d8dcb9653dbad35"))
JOINED_MS = 1_796_112_000_000  # 2026-12-01 08:00 UTC
NOW_MS = JOINED_MS + 3_600_000
PEOPLE = {
    "alice": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    "bob": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    "mallory": "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",  # never a member
    "revoked": "0x90f79bf6eb2c4f870365e785982e1f101e93b906",  # key revoked 30 min before now
    "removed": "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65",  # removed 30 min before now
}
TARGET = MessageId(hashlib.sha256(b"an earlier post by alice").digest())


def seed(name: str) -> bytes:
    return hashlib.sha256(b"kiez test vector key " + name.encode()).digest()


def signer(name: str) -> Signer:
    return Signer(seed(name))


#: bob's second key: the identity point, of order 1 (small order).
SMALL_ORDER_KEY = AppKey(ed.IDENTITY_BYTES)
#: alice's second key: her key plus a point of order 8 (mixed order); she knows its discrete log
#: modulo the prime-order part, which is enough to sign with it.
MIXED_ORDER_KEY = AppKey(ed.encode(ed.add(ed.decode(signer("alice").public_key), ed.decode(ed.ORDER_8_BYTES))))
EXTRA_KEYS = {SMALL_ORDER_KEY: PEOPLE["bob"], MIXED_ORDER_KEY: PEOPLE["alice"]}


def view() -> CommunityView:
    v = CommunityView(chain_time_ms=NOW_MS)
    half_hour_ago = NOW_MS - 1_800_000
    for name, address in PEOPLE.items():
        if name == "mallory":
            continue
        end = half_hour_ago if name == "removed" else None
        v.members[address] = MemberRecord(address, [(JOINED_MS, end)])
        revoked = half_hour_ago if name == "revoked" else None
        v.keys[signer(name).public_key] = KeyRecord(signer(name).public_key, address, JOINED_MS, revoked)
    for key, owner in EXTRA_KEYS.items():
        v.keys[key] = KeyRecord(key, owner, JOINED_MS, None)
    return v


def sign(
    name: str, kind: Kind, body: Body, ts: int = NOW_MS, community: Community = COMMUNITY, room: str = ""
) -> bytes:
    return signer(name).envelope(community, kind, body, ts, room)
