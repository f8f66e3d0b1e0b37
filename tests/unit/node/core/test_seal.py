"""Private-room cryptography: sealing room keys to members and encrypting content."""

from __future__ import annotations

import os

import pytest

from node.core.encoding import decode, pack
from node.core.errors import DecodeError, SealError
from node.core.seal import (
    Sealed,
    content_header,
    decrypt,
    encrypt,
    new_room_key,
    open_content,
    open_sealed,
    seal_content,
    seal_to,
    seal_with,
    x25519_public,
)
from node.core.types import Kind, Message, MessageId, PostBody, SealedBody
from node.core.verdict import Reason

from .helpers import COMMUNITY, NOW_MS, signer

ROOM = b"\x01" * 32


def test_a_sealed_key_opens_only_for_its_recipient() -> None:
    alice, mallory = os.urandom(32), os.urandom(32)
    key = new_room_key()
    sealed = seal_to(x25519_public(alice), key, ROOM)
    assert open_sealed(alice, sealed, ROOM) == key
    with pytest.raises(SealError, match="not sealed to this member"):
        open_sealed(mallory, sealed, ROOM)
    with pytest.raises(SealError):
        open_sealed(alice, sealed, b"\x02" * 32)  # bound to its room
    tampered = Sealed(sealed.ephemeral, sealed.box[:-1] + bytes([sealed.box[-1] ^ 1]))
    with pytest.raises(SealError):
        open_sealed(alice, tampered, ROOM)


def test_every_seal_is_fresh() -> None:
    alice = os.urandom(32)
    key = new_room_key()
    first, second = seal_to(x25519_public(alice), key, ROOM), seal_to(x25519_public(alice), key, ROOM)
    assert first.ephemeral != second.ephemeral
    assert first.box != second.box


def test_content_is_bound_to_its_header() -> None:
    key = new_room_key()
    nonce, ciphertext = encrypt(key, b"meet at the canal at 8", b"header")
    assert decrypt(key, nonce, ciphertext, b"header") == b"meet at the canal at 8"
    assert b"canal" not in ciphertext
    with pytest.raises(SealError, match="does not open"):
        decrypt(key, nonce, ciphertext, b"another header")
    with pytest.raises(SealError):
        decrypt(new_room_key(), nonce, ciphertext, b"header")


def test_a_seal_with_a_given_ephemeral_key_is_reproducible() -> None:
    alice, ephemeral = os.urandom(32), os.urandom(32)
    key = new_room_key()
    first = seal_with(ephemeral, x25519_public(alice), key, ROOM)
    assert first == seal_with(ephemeral, x25519_public(alice), key, ROOM)
    assert first.ephemeral == x25519_public(ephemeral)
    assert open_sealed(alice, first, ROOM) == key


def test_the_content_header_names_community_room_key_and_author() -> None:
    room = "ab" * 32
    header = content_header(b"\x11" * 20, room, b"\x22" * 32, b"\x33" * 32)
    assert header == b"kiez/sealed/v1" + b"\x11" * 20 + room.encode() + b"\x22" * 32 + b"\x33" * 32
    assert len(header) == 14 + 20 + 64 + 32 + 32


def _sealed_message(plaintext: bytes, room_key: bytes) -> Message:
    """A sealed message by alice whose ciphertext opens to ``plaintext``."""
    room, key_id = "cd" * 32, MessageId(b"\x44" * 32)
    author = signer("alice").public_key
    header = content_header(COMMUNITY.contract, room, key_id, author)
    nonce, ciphertext = encrypt(room_key, plaintext, header)
    return decode(signer("alice").envelope(COMMUNITY, Kind.SEALED, SealedBody(key_id, nonce, ciphertext), NOW_MS, room))


def test_sealed_content_opens_to_its_post() -> None:
    key = new_room_key()
    body = PostBody("meet at the canal at 8", MessageId(b"\x05" * 32))
    sealed = seal_content(key, Kind.POST, body, b"", MessageId(b"\x44" * 32))
    message = _sealed_message(decrypt(key, sealed.nonce, sealed.ciphertext, b""), key)
    assert open_content(key, message) == (Kind.POST, body)
    with pytest.raises(SealError):
        open_content(new_room_key(), message)


@pytest.mark.parametrize(
    ("plaintext", "reason"),
    [
        (b"\x92\xcc\x01\x92\xa2hi\xc0", Reason.NON_CANONICAL),  # kind 1 spelled as a uint8
        (pack([int(Kind.DELETE), [b"\x05" * 32]]), Reason.MALFORMED),  # only posts and reactions
        (pack([1, ["hi", None], "more"]), Reason.MALFORMED),
        (pack([1, ["\u200b", None]]), Reason.BAD_CONTENT),
        (b"\x92\x01", Reason.MALFORMED),
    ],
    ids=["non-canonical", "a-delete", "three-items", "blank-text", "truncated"],
)
def test_a_plaintext_that_is_not_a_canonical_post_or_reaction_does_not_open(plaintext: bytes, reason: Reason) -> None:
    key = new_room_key()
    with pytest.raises(DecodeError) as caught:
        open_content(key, _sealed_message(plaintext, key))
    assert caught.value.reason is reason
