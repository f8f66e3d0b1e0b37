"""Private-room cryptography: sealing room keys to members and encrypting content."""

from __future__ import annotations

import os

import pytest

from node.core.errors import SealError
from node.core.seal import (
    Sealed,
    decrypt,
    encrypt,
    new_room_key,
    open_sealed,
    seal_to,
    x25519_public,
)

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
