"""ed25519 signatures over domain-separated bytes.

The signature covers ``DOMAIN + signed``. The signed bytes already name the protocol version, the
chain id and the community contract, so a message cannot be replayed into another community or
chain; the fixed prefix keeps a kiez signature from ever being valid for another protocol that
uses the same key. PyNaCl (libsodium) verifies about twice as fast as ``cryptography`` here, and
verification is the hot path of ingest.
"""

from __future__ import annotations

from dataclasses import dataclass

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

from node.core import encoding
from node.core.types import AppKey, Body, Community, Kind, Message

DOMAIN = b"kiez/message/v1\n"


@dataclass(frozen=True)
class Signer:
    """An app key's private half (from its 32-byte seed) that makes signed envelopes."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise ValueError("an ed25519 seed is 32 bytes")

    @property
    def public_key(self) -> AppKey:
        return AppKey(bytes(SigningKey(self.seed).verify_key))

    def sign(self, signed: bytes) -> bytes:
        return bytes(SigningKey(self.seed).sign(DOMAIN + signed).signature)

    def envelope(self, community: Community, kind: Kind, body: Body, timestamp_ms: int, room: str = "") -> bytes:
        """A complete envelope ready for gossip."""
        signed = encoding.encode_body(community, kind, self.public_key, timestamp_ms, room, body)
        return encoding.encode_envelope(signed, self.sign(signed))


def verify(message: Message) -> bool:
    """Whether the message's signature is its author key's, over exactly the bytes received."""
    try:
        VerifyKey(message.author).verify(DOMAIN + message.signed, message.signature)
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True
