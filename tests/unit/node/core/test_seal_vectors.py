"""Private-room cryptography agrees with the published values (node/spec/sealing-vectors.json):
each box is what ``seal_with`` makes from the listed ephemeral key and opens with the member's
key; each sealed message's associated data is ``content_header`` of its envelope, and opens (or
does not) as the file says; every envelope is valid for a relay that cannot read it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from node.core import seal
from node.core.encoding import decode, encode_plaintext
from node.core.errors import DecodeError, SealError
from node.core.types import Kind, MessageId, PostBody, ReactionBody, RoomKeyBody, SealedBody
from node.core.validation import Context, Via, validate
from tests.unit.node.core.helpers import MemoryKnown
from tests.unit.node.core.vectors_base import COMMUNITY, NOW_MS, view
from tests.unit.node.core.vectors_gen import known_of

from . import seal_vectors_gen
from .vectorfile import unhexed

DOC: dict[str, Any] = json.loads(seal_vectors_gen.PATH.read_text(encoding="utf-8"))
ROOM = unhexed(DOC["room"]["id_bytes"])
ROOM_KEY = unhexed(DOC["room"]["room_key"])


def test_the_committed_values_are_what_the_generator_makes() -> None:
    assert seal_vectors_gen.PATH.read_text(encoding="utf-8") == seal_vectors_gen.render(), (
        "node/spec/sealing-vectors.json is stale: python -m tests.unit.node.core.seal_vectors_gen --write"
    )


@pytest.mark.parametrize("box", DOC["boxes"], ids=[b["member"] for b in DOC["boxes"]])
def test_a_box(box: dict[str, Any]) -> None:
    private, public = unhexed(box["x25519_private"]), unhexed(box["x25519_public"])
    assert seal.x25519_public(private) == public
    assert unhexed(box["hkdf_info"]) == seal.CONTEXT + ROOM  # the room as its 32 bytes
    made = seal.seal_with(unhexed(box["ephemeral_private"]), public, ROOM_KEY, ROOM)
    assert (made.ephemeral, made.box) == (unhexed(box["ephemeral_public"]), unhexed(box["box"]))
    assert seal.open_sealed(private, made, ROOM) == ROOM_KEY


def _relay() -> MemoryKnown:
    """A node that holds the room (it knows the room's rules) and reads nothing."""
    spec: dict[str, Any] = {"messages": {}, "tombstones": {}, "erasures": {}, "last_posts": [], "polls": {}}
    return known_of({**spec, "rooms": {DOC["room"]["id"]: DOC["room"]["settings"]}})


def test_the_room_key_message_carries_every_box() -> None:
    message = decode(unhexed(DOC["room_key_message"]["envelope"]))
    assert "0x" + message.id.hex() == DOC["room_key_message"]["id"]
    assert isinstance(message.body, RoomKeyBody)
    assert [(r.public, r.ephemeral, r.box) for r in message.body.recipients] == [
        (unhexed(b["x25519_public"]), unhexed(b["ephemeral_public"]), unhexed(b["box"])) for b in DOC["boxes"]
    ]
    verdict = validate(message.envelope, Context(COMMUNITY, NOW_MS, Via.SYNC), view(), _relay())
    assert verdict.accepted, str(verdict)


@pytest.mark.parametrize("case", DOC["sealed"], ids=[c["name"] for c in DOC["sealed"]])
def test_a_sealed_message(case: dict[str, Any]) -> None:
    message = decode(unhexed(case["envelope"]))
    verdict = validate(message.envelope, Context(COMMUNITY, NOW_MS, Via.SYNC), view(), _relay())
    assert verdict.accepted, str(verdict)  # relays store and forward it, readable or not
    body = message.body
    assert isinstance(body, SealedBody)
    author_header = seal.content_header(COMMUNITY.contract, message.room, body.key_id, message.author)
    assert (body.nonce, body.ciphertext) == (unhexed(case["nonce"]), unhexed(case["ciphertext"]))
    expect = case["opens"]
    if expect.get("refused") == "does_not_open":
        assert author_header != unhexed(case["aad"])
        with pytest.raises(SealError):
            seal.open_content(ROOM_KEY, message)
        return
    assert author_header == unhexed(case["aad"])
    assert seal.decrypt(ROOM_KEY, body.nonce, body.ciphertext, author_header) == unhexed(case["plaintext"])
    if "refused" in expect:
        with pytest.raises(DecodeError) as caught:
            seal.open_content(ROOM_KEY, message)
        assert caught.value.reason.value == expect["refused"]
        return
    kind, opened = seal.open_content(ROOM_KEY, message)
    assert kind.label == expect["kind"]
    assert encode_plaintext(kind, opened) == unhexed(case["plaintext"])
    plain = expect["body"]
    if kind is Kind.POST:
        assert opened == PostBody(plain["text"], None)
    else:
        assert opened == ReactionBody(MessageId(unhexed(plain["target"])), plain["reaction"], plain["active"])
