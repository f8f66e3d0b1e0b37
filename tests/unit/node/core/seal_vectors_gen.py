"""Generates node/spec/sealing-vectors.json: a private room's key sealed to two members, and sealed
messages under it (spec section 11), from fixed keys and nonces, every intermediate value shown.

``python -m tests.unit.node.core.seal_vectors_gen --write`` rewrites the file;
tests/unit/node/core/test_seal_vectors.py checks node/core/seal.py against every value.
The values are computed here from the spec's formulas with the primitives themselves (X25519,
HKDF-SHA256, ChaCha20-Poly1305), not with seal.py, so the test compares two derivations. The
messages live in the world of vectors.json (community, keys, time) and in its private room
"organisers" (vectors_more.PRIVATE), where each envelope is a valid message for every relay.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from node.core.encoding import decode, pack
from node.core.types import Kind, MessageId, Recipient, RoomKeyBody, SealedBody
from tests.unit.node.core import vectorfile
from tests.unit.node.core.vectorfile import hexed
from tests.unit.node.core.vectors_base import COMMUNITY, NOW_MS, TARGET, sign, signer
from tests.unit.node.core.vectors_more import PRIVATE, PRIVATE_ROOM

PATH = vectorfile.SPEC / "sealing-vectors.json"
ROOM_KEY = hashlib.sha256(b"kiez test vector room key").digest()
MEMBERS = ("alice", "bob")
KEY_SENT_MS = NOW_MS - 120_000


def x25519_private(name: str) -> bytes:
    return hashlib.sha256(b"kiez test vector x25519 " + name.encode()).digest()


def ephemeral_private(name: str) -> bytes:
    return hashlib.sha256(b"kiez test vector ephemeral for " + name.encode()).digest()


def nonce(n: int) -> bytes:
    return hashlib.sha256(b"kiez test vector nonce %d" % n).digest()[:12]


def _public(private: bytes) -> bytes:
    key = X25519PrivateKey.from_private_bytes(private).public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _box(name: str) -> dict[str, Any]:
    """One recipient's sealed copy of the room key."""
    recipient, ephemeral = _public(x25519_private(name)), ephemeral_private(name)
    shared = X25519PrivateKey.from_private_bytes(ephemeral).exchange(X25519PublicKey.from_public_bytes(recipient))
    room = bytes.fromhex(PRIVATE)
    salt, info = _public(ephemeral) + recipient, b"kiez/room-key/v1" + room
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared)
    return {
        "member": name,
        "x25519_private": hexed(x25519_private(name)),
        "x25519_public": hexed(recipient),
        "ephemeral_private": hexed(ephemeral),
        "ephemeral_public": hexed(_public(ephemeral)),
        "shared_secret": hexed(shared),
        "hkdf_salt": hexed(salt),
        "hkdf_info": hexed(info),
        "box_key": hexed(key),
        "box_nonce": hexed(bytes(12)),
        "box_aad": hexed(room),
        "box": hexed(ChaCha20Poly1305(key).encrypt(bytes(12), ROOM_KEY, room)),
    }


def _room_key_envelope(boxes: list[dict[str, Any]]) -> bytes:
    unhex = vectorfile.unhexed
    recipients = tuple(
        Recipient(unhex(b["x25519_public"]), unhex(b["ephemeral_public"]), unhex(b["box"])) for b in boxes
    )
    return sign("alice", Kind.ROOM_KEY, RoomKeyBody(recipients), KEY_SENT_MS, room=PRIVATE)


def _sealed(name: str, description: str, key_id: MessageId, n: int, plaintext: bytes, **extra: Any) -> dict[str, Any]:
    """A sealed message by ``name`` whose ciphertext is ``plaintext`` encrypted under the room key;
    ``header_author`` makes the associated data name another author (it then opens for nobody)."""
    header_author = extra.pop("header_author", name)
    aad = b"kiez/sealed/v1" + COMMUNITY.contract + PRIVATE.encode("ascii") + key_id + signer(header_author).public_key
    ciphertext = ChaCha20Poly1305(ROOM_KEY).encrypt(nonce(n), plaintext, aad)
    body = SealedBody(key_id, nonce(n), ciphertext)
    return {
        "name": extra.pop("case"),
        "description": description,
        "author": name,
        "nonce": hexed(nonce(n)),
        "plaintext": hexed(plaintext),
        "aad": hexed(aad),
        "ciphertext": hexed(ciphertext),
        "envelope": hexed(sign(name, Kind.SEALED, body, KEY_SENT_MS + n, room=PRIVATE)),
        "opens": extra,
    }


def build() -> dict[str, Any]:
    boxes = [_box(name) for name in MEMBERS]
    room_key_envelope = _room_key_envelope(boxes)
    key_id = decode(room_key_envelope).id
    post = pack([1, ["Meet at the canal at 8", None]])
    reaction = pack([2, [TARGET, "👍", True]])
    post_body: dict[str, Any] = {"text": "Meet at the canal at 8", "parent": None, "attachments": []}
    reaction_body = {"target": hexed(TARGET), "reaction": "👍", "active": True}
    sealed = [
        _sealed("alice", "a sealed post", key_id, 1, post, case="post", kind="post", body=post_body),
        _sealed("bob", "a sealed reaction", key_id, 2, reaction, case="reaction", kind="reaction", body=reaction_body),
        _sealed(
            "bob",
            "the kind as a uint8 (0xcc 0x01): valid msgpack, not canonical",
            key_id,
            3,
            b"\x92\xcc\x01" + post[2:],
            case="non-canonical",
            refused="non_canonical",
        ),
        _sealed(
            "bob",
            "a delete inside: only posts and reactions are sealed",
            key_id,
            4,
            pack([3, [TARGET]]),
            case="sealed-delete",
            refused="malformed",
        ),
        _sealed("bob", "a blank post", key_id, 5, pack([1, ["\u200b", None]]), case="blank", refused="bad_content"),
        _sealed(
            "bob",
            "encrypted with alice's key in the associated data: a ciphertext is bound to its author",
            key_id,
            6,
            post,
            case="other-author",
            header_author="alice",
            refused="does_not_open",
        ),
    ]
    return {
        "format": "kiez-sealing-vectors/1",
        "about": "Private-room cryptography for node/spec/wire-format.md section 11, in the world of vectors.json. "
        "A room key sealed to two members (room_key message), and sealed messages under it. Hex strings are bytes. "
        "'opens' says what a participant finds inside: the kind and body, or why it shows nothing.",
        "room": {"id": PRIVATE, "id_bytes": "0x" + PRIVATE, "settings": PRIVATE_ROOM, "room_key": hexed(ROOM_KEY)},
        "boxes": boxes,
        "room_key_message": {"envelope": hexed(room_key_envelope), "id": hexed(key_id), "timestamp_ms": KEY_SENT_MS},
        "sealed": sealed,
    }


def render() -> str:
    return vectorfile.render(build())


if __name__ == "__main__":
    vectorfile.main(PATH, render)
