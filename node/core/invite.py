"""Invites: the one thing a newcomer is given out of band (a ``kiez:`` text or its QR code).

An invite names the community (chain id and contract), hints at an RPC endpoint, carries a few
signed peer records of members' nodes (so the newcomer's node has someone to dial) and the
inviting member's signed EIP-712 invitation (so a sponsoring node may pay for the join request).
Nothing in it needs to be trusted: the records are ordinary signed messages that the newcomer's
node validates like any other, and the contract checks the invitation's signature itself.

The text is ``kiez:`` followed by the base32 (RFC 4648, no padding) of::

    sha256(payload)[:4] || payload,   payload = msgpack [1, chain_id, contract(20), rpc_hint,
                                                       [record envelope …], invitation, note]

The four checksum bytes catch a text that was cut or mistyped before anything is decoded.
Base32 keeps the text in QR's compact alphanumeric mode when written in capitals, and the
decoder accepts either case. ``invitation`` is the governance package's wire form of a signed
invitation; the core carries it as opaque bytes (it never imports governance).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import msgpack

from node.core import limits
from node.core.errors import BadInvite

SCHEME = "kiez:"
VERSION = 1
MAX_RECORDS = 4
MAX_RPC_HINT = 256
MAX_NOTE_CHARS = 280
MAX_INVITATION_BYTES = 512
MAX_TEXT_CHARS = 8192
_CHECKSUM = 4


@dataclass(frozen=True)
class Invite:
    chain_id: int
    contract: bytes  # 20 bytes
    rpc_hint: str
    records: tuple[bytes, ...]  # PEER message envelopes
    invitation: bytes  # governance.invitations.SignedInvitation.to_bytes()
    note: str = ""

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise BadInvite(problem)

    @property
    def contract_hex(self) -> str:
        return "0x" + self.contract.hex()


def _problem(invite: Invite) -> str | None:
    if type(invite.chain_id) is not int or not 0 < invite.chain_id < 2**64:
        return "its chain id is not a positive 64-bit number"
    if type(invite.contract) is not bytes or len(invite.contract) != 20:
        return "its community address is not 20 bytes"
    if not invite.rpc_hint.startswith(("http://", "https://")) or len(invite.rpc_hint) > MAX_RPC_HINT:
        return f"its RPC hint must be an http(s) URL of at most {MAX_RPC_HINT} characters"
    if any(ord(c) < 0x20 or c == "\x7f" for c in invite.rpc_hint + invite.note):
        return "it contains control characters"
    if len(invite.records) > MAX_RECORDS:
        return f"it carries {len(invite.records)} peer records; at most {MAX_RECORDS} fit"
    if any(type(r) is not bytes or len(r) > limits.MAX_MESSAGE_BYTES for r in invite.records):
        return "one of its peer records is not a message envelope"
    if type(invite.invitation) is not bytes or not 0 < len(invite.invitation) <= MAX_INVITATION_BYTES:
        return "its invitation is missing or too long"
    if len(invite.note) > MAX_NOTE_CHARS:
        return f"its note is longer than {MAX_NOTE_CHARS} characters"
    return None


def encode_invite(invite: Invite) -> str:
    """The invite as text: ``kiez:`` and lowercase base32."""
    fields = [
        VERSION,
        invite.chain_id,
        invite.contract,
        invite.rpc_hint,
        list(invite.records),
        invite.invitation,
        invite.note,
    ]
    payload: bytes = msgpack.packb(fields, use_bin_type=True)
    data = hashlib.sha256(payload).digest()[:_CHECKSUM] + payload
    return SCHEME + base64.b32encode(data).decode("ascii").rstrip("=").lower()


def decode_invite(text: str) -> Invite:
    """The invite in ``text`` (surrounding blanks and line breaks ignored), or ``BadInvite``."""
    compact = "".join(text.split())
    if len(compact) > MAX_TEXT_CHARS:
        raise BadInvite(f"the text is {len(compact)} characters long; an invite has at most {MAX_TEXT_CHARS}")
    if not compact.lower().startswith(SCHEME):
        raise BadInvite("an invite starts with 'kiez:'; this text does not")
    body = compact[len(SCHEME) :].upper()
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError:
        raise BadInvite(
            "the text after 'kiez:' is not base32 (letters a-z and digits 2-7), or it was cut short"
        ) from None
    if len(data) <= _CHECKSUM or hashlib.sha256(data[_CHECKSUM:]).digest()[:_CHECKSUM] != data[:_CHECKSUM]:
        raise BadInvite("the invite's checksum does not match: it was cut short or mistyped; copy it again")
    return _from_fields(_unpack(data[_CHECKSUM:]))


def _unpack(payload: bytes) -> Any:
    try:
        return msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException) as exc:
        raise BadInvite(f"the invite's content is not well-formed ({exc})") from None


def _from_fields(fields: Any) -> Invite:
    if type(fields) is not list or not fields or type(fields[0]) is not int:
        raise BadInvite("the invite's content is not a versioned list")
    if fields[0] != VERSION:
        raise BadInvite(f"this invite is of version {fields[0]}; this kiez reads version {VERSION}: update kiez")
    if len(fields) != 7:
        raise BadInvite(f"a version {VERSION} invite has 7 fields, not {len(fields)}")
    _, chain_id, contract, rpc_hint, records, invitation, note = fields
    if type(rpc_hint) is not str or type(note) is not str or type(records) is not list:
        raise BadInvite("the invite's RPC hint, records or note have the wrong type")
    return Invite(chain_id, contract, rpc_hint, tuple(records), invitation, note)
