"""Generates node/spec/vectors.json, the test vectors published with the wire format.

Deterministic (fixed seeds and times), so the committed file can be regenerated and compared:
``.venv/bin/python -m tests.unit.node.core.vectors_gen --write`` rewrites it; the unit tests check
both that the implementation agrees with every vector and that the file is what this produces.
The world the vectors are judged in is vectors_base.py; the cases added for versions, blank text,
room rules and signatures are vectors_more.py, those of guests vectors_guests.py.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from node.config import NodeConfig
from node.core import limits
from node.core.encoding import encode_body, encode_envelope, pack
from node.core.guests import GuestPass
from node.core.rooms import Room
from node.core.signing import DOMAIN
from node.core.types import (
    AppKey,
    Body,
    Community,
    DeleteBody,
    EraseBody,
    Kind,
    MessageId,
    PollBody,
    PostBody,
    ReactionBody,
    RoomBody,
    Visibility,
)
from node.core.validation import Context, Via, validate
from node.rooms.topics import RoomTopics
from tests.unit.node.core import vectorfile, vectors_guests, vectors_more
from tests.unit.node.core.helpers import MemoryKnown
from tests.unit.node.core.vectorfile import hexed as _hex
from tests.unit.node.core.vectors_base import COMMUNITY, NOW_MS, PEOPLE, TARGET, seed, sign, signer, view

PATH = vectorfile.SPEC / "vectors.json"


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
        *vectors_more.space_cases(),
        *vectors_more.version_cases(),
        *vectors_more.text_cases(),
        *vectors_more.room_cases(),
        *vectors_more.signature_cases(),
        *vectors_more.peer_cases(),
        *vectors_more.profile_cases(),
        *vectors_more.mention_cases(),
        *vectors_guests.guest_cases(),
    ]
    return cases


def _versioned(version: int) -> bytes:
    signed = pack(
        [version, COMMUNITY.chain_id, COMMUNITY.contract, 1, signer("alice").public_key, NOW_MS, "", ["hi", None]]
    )
    return encode_envelope(signed, signer("alice").sign(signed))


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


def known_of(spec: dict[str, Any]) -> MemoryKnown:
    """The store's answers a vector's ``known`` describes (as the JSON file lists it)."""
    rooms = {
        room_id: Room(
            room_id,
            r["creator"],
            RoomBody(r["name"], r["topic"], Visibility(r["visibility"]), r["creator_only"], r["slow_mode_s"]),
            (0, b""),
        )
        for room_id, r in spec["rooms"].items()
    }
    return MemoryKnown(
        messages={vectorfile.unhexed(k): v for k, v in spec["messages"].items()},
        tombstones={vectorfile.unhexed(k): v for k, v in spec["tombstones"].items()},
        erasures={k: int(v) for k, v in spec["erasures"].items()},
        rooms=rooms,
        last_posts={(p["member"], p["room"]): p["at_ms"] for p in spec["last_posts"]},
        polls={
            vectorfile.unhexed(k): PollBody(p["question"], tuple(p["options"]), p["closes_ms"])
            for k, p in spec["polls"].items()
        },
        passes={vectorfile.unhexed(k): _guest_pass(k, p) for k, p in spec.get("guest_passes", {}).items()},
    )


def _guest_pass(pass_id: str, p: dict[str, Any]) -> GuestPass:
    guest = AppKey(vectorfile.unhexed(p["guest"]))
    ident = MessageId(vectorfile.unhexed(pass_id))
    return GuestPass(ident, guest, p["room"], p["inviter"], p["issued_ms"], p["until_ms"], p["note"], p["ended_ms"])


def _known_json(case: dict[str, Any], self_id: bytes) -> dict[str, Any]:
    """A case's ``known`` as JSON: ``$self`` stands for the case's own message id."""
    spec = case.get("known", {})

    def ids(table: dict[Any, Any]) -> dict[str, Any]:
        return {_hex(self_id if k == "$self" else k): v for k, v in table.items()}

    return {
        "messages": ids(spec.get("messages", {})),
        "tombstones": ids(spec.get("tombstones", {})),
        "erasures": spec.get("erasures", {}),
        "rooms": spec.get("rooms", {}),
        "last_posts": spec.get("last_posts", []),
        "polls": ids(spec.get("polls", {})),
        "guest_passes": ids(spec.get("guest_passes", {})),
    }


def build() -> dict[str, Any]:
    """The whole vectors document, with each expectation computed by this implementation."""
    the_view = view()
    out: list[dict[str, Any]] = []
    for case in _cases():
        envelope: bytes = case["envelope"]
        via = Via(case.get("via", "gossip"))
        self_id = hashlib.sha256(_signed_part(envelope)).digest() if _signed_part(envelope) else b""
        known = _known_json(case, self_id)
        verdict = validate(envelope, Context(COMMUNITY, NOW_MS, via), the_view, known_of(known))
        entry: dict[str, Any] = {
            "name": case["name"],
            "description": case["description"],
            "via": via.value,
            "envelope": _hex(envelope),
            "known": known,
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
        "topics": topics(),
        "keys": {
            name: {"seed": _hex(seed(name)), "public": _hex(signer(name).public_key), "member": address}
            for name, address in PEOPLE.items()
        }
        | {"guest": {"seed": _hex(seed("guest")), "public": _hex(signer("guest").public_key), "member": None}},
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


def topics() -> dict[str, str]:
    """The gossip topics of the general room and of one room (spec section 7), as the node makes
    them from its configuration (the contract address as configured, with 0x, in any case)."""
    config = NodeConfig(Path("/"), "http://127.0.0.1:8545", "0x" + COMMUNITY.contract.hex().upper(), COMMUNITY.chain_id)
    room = vectors_more.MARKET
    return {
        "general": config.topic,
        "room": room,
        "room_topic": RoomTopics.topic(cast(RoomTopics, SimpleNamespace(config=config)), room),
    }


def render() -> str:
    return vectorfile.render(build())


if __name__ == "__main__":
    vectorfile.main(PATH, render)
