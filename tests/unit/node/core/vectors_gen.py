"""Generates node/spec/vectors.json, the test vectors published with the wire format.

Deterministic (fixed seeds and times), so the committed file can be regenerated and compared:
``.venv/bin/python -m tests.unit.node.core.vectors_gen --write`` rewrites it; the unit tests check
both that the implementation agrees with every vector and that the file is what this produces.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from node.core import limits
from node.core.encoding import encode_body, encode_envelope, pack
from node.core.signing import DOMAIN, Signer
from node.core.types import (
    AnswerBody,
    Attachment,
    Body,
    Community,
    DeleteBody,
    EraseBody,
    EventBody,
    Kind,
    LeaveBody,
    MessageId,
    PollBody,
    PostBody,
    ReactionBody,
    RoomBody,
    RsvpBody,
    SealedBody,
    Visibility,
    XKeyBody,
)
from node.core.validation import Context, Via, validate
from node.core.view import CommunityView, KeyRecord, MemberRecord
from tests.unit.node.core.helpers import MemoryKnown

PATH = Path(__file__).resolve().parents[4] / "node" / "spec" / "vectors.json"
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


def seed(name: str) -> bytes:
    return hashlib.sha256(b"kiez test vector key " + name.encode()).digest()


def signer(name: str) -> Signer:
    return Signer(seed(name))


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
    return v


def sign(name: str, kind: Kind, body: Body, ts: int = NOW_MS, community: Community = COMMUNITY) -> bytes:
    return signer(name).envelope(community, kind, body, ts)


TARGET = MessageId(hashlib.sha256(b"an earlier post by alice").digest())


def _cases() -> list[dict[str, Any]]:
    post = sign("alice", Kind.POST, PostBody("Repair café on Thursday, 18:00 🔧"))
    body_bytes = encode_body(COMMUNITY, Kind.POST, signer("alice").public_key, NOW_MS, "", PostBody("x"))
    good_signature = signer("alice").sign(body_bytes)
    tampered = bytearray(post)
    tampered[-5] ^= 0xFF
    longer = body_bytes.replace(b"\xcd\x7a\x69", b"\xce\x00\x00\x7a\x69", 1)
    cases: list[dict[str, Any]] = [
        {"name": "post", "description": "a member's post", "envelope": post},
        {
            "name": "reply",
            "description": "a reply: a post whose parent is another message id",
            "envelope": sign("bob", Kind.POST, PostBody("Count me in", TARGET)),
        },
        {
            "name": "reaction",
            "description": "a reaction to a message",
            "envelope": sign("bob", Kind.REACTION, ReactionBody(TARGET, "❤️")),
        },
        {
            "name": "reaction-withdrawn",
            "description": "withdrawing a reaction (active = false)",
            "envelope": sign("bob", Kind.REACTION, ReactionBody(TARGET, "❤️", active=False), NOW_MS + 1),
        },
        {
            "name": "delete",
            "description": "the author deletes their own earlier post",
            "envelope": sign("alice", Kind.DELETE, DeleteBody(TARGET)),
            "known": {"messages": {TARGET: PEOPLE["alice"]}},
        },
        {"name": "garbage", "description": "bytes that are not msgpack", "envelope": b"\xc1\x00garbage"},
        {"name": "truncated", "description": "a valid envelope cut short", "envelope": post[:-10]},
        {
            "name": "wrong-field-type",
            "description": "chain id sent as a string",
            "envelope": encode_envelope(
                pack([1, "31337", COMMUNITY.contract, 1, bytes(32), NOW_MS, "", ["x", None]]), bytes(64)
            ),
        },
        {
            "name": "oversized",
            "description": f"an envelope over {limits.MAX_MESSAGE_BYTES} bytes is refused unread",
            "envelope": encode_envelope(b"\x00" * limits.MAX_MESSAGE_BYTES, bytes(64)),
        },
        {
            "name": "non-canonical",
            "description": "chain id encoded as uint32 instead of uint16: same value, other bytes",
            "envelope": encode_envelope(longer, signer("alice").sign(longer)),
        },
        {"name": "bad-signature", "description": "one signature byte flipped", "envelope": bytes(tampered)},
        {
            "name": "signature-of-other-bytes",
            "description": "a real signature by the author, but over different bytes",
            "envelope": encode_envelope(
                encode_body(COMMUNITY, Kind.POST, signer("alice").public_key, NOW_MS, "", PostBody("y")),
                good_signature,
            ),
        },
        {
            "name": "wrong-community",
            "description": "signed for another contract",
            "envelope": sign("alice", Kind.POST, PostBody("hi"), community=Community(31337, b"\x11" * 20)),
        },
        {
            "name": "wrong-chain",
            "description": "signed for the same contract address on another chain",
            "envelope": sign("alice", Kind.POST, PostBody("hi"), community=Community(1, COMMUNITY.contract)),
        },
        {
            "name": "newer-version",
            "description": "a protocol version this node does not speak: ignored, not punished",
            "envelope": _versioned(2),
        },
        {
            "name": "non-member",
            "description": "a key never authorised",
            "envelope": sign("mallory", Kind.POST, PostBody("buy now")),
        },
        {
            "name": "revoked-key",
            "description": "signed after revocation",
            "envelope": sign("revoked", Kind.POST, PostBody("hi")),
        },
        {
            "name": "revoked-key-earlier-post",
            "description": "signed before the key was revoked: still valid (arrives by sync)",
            "envelope": sign("revoked", Kind.POST, PostBody("hi"), NOW_MS - 2_400_000),
            "via": "sync",
        },
        {
            "name": "removed-member",
            "description": "signed after removal",
            "envelope": sign("removed", Kind.POST, PostBody("hi")),
        },
        {
            "name": "far-future",
            "description": "timestamp a day ahead",
            "envelope": sign("alice", Kind.POST, PostBody("hi"), NOW_MS + 86_400_000),
        },
        {
            "name": "too-old-for-gossip",
            "description": "an hour old: refused by gossip, fine by sync",
            "envelope": sign("alice", Kind.POST, PostBody("hi"), NOW_MS - 3_000_000),
        },
        {
            "name": "replay",
            "description": "a message already stored",
            "envelope": post,
            "known": {"messages": {"$self": PEOPLE["alice"]}},
        },
        {
            "name": "deleted",
            "description": "a post whose author's delete is stored: a delete beats its post forever",
            "envelope": post,
            "known": {"tombstones": {"$self": PEOPLE["alice"]}},
        },
        {
            "name": "erase",
            "description": "alice erases everything she wrote up to now (kiez forget-me)",
            "envelope": sign("alice", Kind.ERASE, EraseBody(NOW_MS)),
        },
        {
            "name": "erase-by-former-member",
            "description": "a removed member may still erase what they wrote while a member",
            "envelope": sign("removed", Kind.ERASE, EraseBody(NOW_MS - 2_000_000), NOW_MS - 10),
            "via": "sync",
        },
        {
            "name": "erase-into-the-future",
            "description": "an erase cannot reach past its own timestamp",
            "envelope": sign("alice", Kind.ERASE, EraseBody(NOW_MS + 60_000)),
        },
        {
            "name": "erased",
            "description": "a post dated before its author's stored erase never comes back",
            "envelope": sign("alice", Kind.POST, PostBody("from before the erase"), NOW_MS - 60_000),
            "via": "sync",
            "known": {"erasures": {PEOPLE["alice"]: NOW_MS - 1}},
        },
        {
            "name": "delete-by-other",
            "description": "bob tries to delete alice's post",
            "envelope": sign("bob", Kind.DELETE, DeleteBody(TARGET)),
            "known": {"messages": {TARGET: PEOPLE["alice"]}},
        },
        *_space_cases(),
    ]
    return cases


def _space_cases() -> list[dict[str, Any]]:
    """Rooms, private-room keys, events, polls and attachments (spec sections 10 to 13)."""
    picture = Attachment(hashlib.sha256(b"a picture").digest(), 9, "image/png")
    return [
        {
            "name": "room",
            "description": "creating a private room (header room is the general room)",
            "envelope": sign("alice", Kind.ROOM, RoomBody("organisers", "street party", Visibility.PRIVATE)),
        },
        {
            "name": "xkey",
            "description": "a member's X25519 public key for private rooms",
            "envelope": sign("bob", Kind.XKEY, XKeyBody(bytes(range(32)))),
        },
        {
            "name": "sealed-outside-a-room",
            "description": "sealed content belongs in a private room, never in the general room",
            "envelope": sign("alice", Kind.SEALED, SealedBody(TARGET, bytes(12), bytes(32))),
        },
        {
            "name": "leave-outside-a-room",
            "description": "a leave message belongs in a private room",
            "envelope": sign("alice", Kind.LEAVE, LeaveBody()),
        },
        {
            "name": "event",
            "description": "an event with a place",
            "envelope": sign(
                "bob", Kind.EVENT, EventBody("Repair café", NOW_MS + 3_600_000, NOW_MS + 7_200_000, "Library")
            ),
        },
        {
            "name": "event-ends-before-it-starts",
            "description": "an event must not end before it starts",
            "envelope": sign("bob", Kind.EVENT, EventBody("Backwards", NOW_MS + 7_200_000, NOW_MS, "")),
        },
        {
            "name": "rsvp",
            "description": "a 'maybe' to an event",
            "envelope": sign("alice", Kind.RSVP, RsvpBody(TARGET, 2)),
        },
        {
            "name": "poll",
            "description": "an opinion poll with two options",
            "envelope": sign("alice", Kind.POLL, PollBody("Which day?", ("Saturday", "Sunday"), NOW_MS + 86_400_000)),
        },
        {
            "name": "poll-closed-when-asked",
            "description": "a poll must close after it is asked",
            "envelope": sign("alice", Kind.POLL, PollBody("Too late?", ("yes", "no"), NOW_MS)),
        },
        {
            "name": "poll-same-options",
            "description": "a poll's options must differ",
            "envelope": sign("alice", Kind.POLL, PollBody("Which day?", ("Sunday", "Sunday"), NOW_MS + 1)),
        },
        {
            "name": "answer",
            "description": "an answer to a poll (the poll itself is not known here)",
            "envelope": sign("bob", Kind.ANSWER, AnswerBody(TARGET, 1)),
        },
        {
            "name": "post-with-attachment",
            "description": "a post naming a picture by hash, size and type",
            "envelope": sign("alice", Kind.POST, PostBody("The new bench", None, (picture,))),
        },
        {
            "name": "attachment-of-a-forbidden-type",
            "description": "attachments are images or PDF only",
            "envelope": sign(
                "alice", Kind.POST, PostBody("run me", None, (Attachment(picture.sha256, 9, "application/x-sh"),))
            ),
        },
    ]


def _versioned(version: int) -> bytes:
    signed = pack(
        [version, COMMUNITY.chain_id, COMMUNITY.contract, 1, signer("alice").public_key, NOW_MS, "", ["hi", None]]
    )
    return encode_envelope(signed, signer("alice").sign(signed))


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _json(value: Any) -> Any:
    """A decoded body as plain JSON: bytes as 0x-hex, enums by value, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return _hex(value)
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _body_json(body: Body) -> dict[str, Any]:
    result: dict[str, Any] = _json(body)
    return result


def build() -> dict[str, Any]:
    """The whole vectors document, with each expectation computed by this implementation."""
    the_view = view()
    out: list[dict[str, Any]] = []
    for case in _cases():
        envelope: bytes = case["envelope"]
        via = Via(case.get("via", "gossip"))
        self_id = hashlib.sha256(_signed_part(envelope)).digest() if _signed_part(envelope) else b""
        known_spec = case.get("known", {})
        resolve = {k if k != "$self" else self_id: v for k, v in known_spec.get("messages", {}).items()}
        tombs = {k if k != "$self" else self_id: v for k, v in known_spec.get("tombstones", {}).items()}
        erasures: dict[str, int] = known_spec.get("erasures", {})
        verdict = validate(envelope, Context(COMMUNITY, NOW_MS, via), the_view, MemoryKnown(resolve, tombs, erasures))
        entry: dict[str, Any] = {
            "name": case["name"],
            "description": case["description"],
            "via": via.value,
            "envelope": _hex(envelope),
            "known": {
                "messages": {_hex(k): v for k, v in resolve.items()},
                "tombstones": {_hex(k): v for k, v in tombs.items()},
                "erasures": erasures,
            },
            "expect": {"outcome": verdict.outcome.value, "reason": verdict.reason.value if verdict.reason else None},
        }
        if verdict.message is not None:
            m = verdict.message
            entry["expect"].update(
                {
                    "id": _hex(m.id),
                    "signed": _hex(m.signed),
                    "signature": _hex(m.signature),
                    "author": _hex(m.author),
                    "kind": m.kind.label,
                    "timestamp_ms": m.timestamp_ms,
                    "room": m.room,
                    "body": _body_json(m.body),
                }
            )
        out.append(entry)
    the_view = view()
    return {
        "format": "kiez-vectors/1",
        "about": "Test vectors for node/spec/wire-format.md. Every envelope is judged with the view, "
        "the time and the stored messages given here; expect says what a correct node decides.",
        "domain_prefix": DOMAIN.decode(),
        "limits": {
            "max_message_bytes": limits.MAX_MESSAGE_BYTES,
            "max_text_bytes": limits.MAX_TEXT_BYTES,
            "max_future_skew_ms": limits.MAX_FUTURE_SKEW_MS,
            "max_gossip_age_ms": limits.MAX_GOSSIP_AGE_MS,
        },
        "community": {"chain_id": COMMUNITY.chain_id, "contract": _hex(COMMUNITY.contract)},
        "now_ms": NOW_MS,
        "keys": {
            name: {"seed": _hex(seed(name)), "public": _hex(signer(name).public_key), "member": address}
            for name, address in PEOPLE.items()
        },
        "view": {
            "complete_until_ms": the_view.chain_time_ms,
            "members": [
                {"address": m.address, "intervals": [list(i) for i in m.intervals]} for m in the_view.members.values()
            ],
            "keys": [
                {"key": _hex(k.key), "owner": k.owner, "added_ms": k.added_ms, "revoked_ms": k.revoked_ms}
                for k in the_view.keys.values()
            ],
            "hidden": [],
        },
        "vectors": out,
    }


def _signed_part(envelope: bytes) -> bytes:
    from node.core.encoding import decode
    from node.core.errors import DecodeError

    try:
        return decode(envelope).signed
    except DecodeError:
        return b""


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv:
        PATH.write_text(render(), encoding="utf-8")
        print(f"wrote {PATH}")
    else:
        sys.stdout.write(render())
