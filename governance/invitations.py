"""Gasless onboarding: a member's signed invitation, a newcomer's signed join request and a
member's signed app-key authorisation, which anyone may relay (and pay for) on-chain.

The typed data is EIP-712 under the community's own domain (the one ballots use: name, protocol
version, chain id, contract), so nothing signed here is valid on another chain or community:
``Invitation(address inviter,uint256 nonce,uint64 expiry,uint32 maxUses)`` (its struct hash is its
id), ``JoinRequest(address applicant,bytes32 introHash,bytes32 invitation,uint256 nonce,uint256
deadline)`` and ``AddKey(address owner,bytes32 key,uint256 nonce,uint256 deadline)``. The nonces of
join requests and key authorisations are the account's contract nonce (``nonces(account)``).

The ``recover_*`` functions answer who signed, so a sponsor checks a request before paying for
it. The wire form (``to_bytes``/``from_bytes``) is canonical msgpack: a versioned array with
256-bit numbers and addresses as fixed-length byte strings. Pure: no connection needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from governance.ballot import BallotDomain, normalize_signature
from governance.errors import GovernanceError
from governance.types import Address

WIRE_VERSION = 1
_INVITATION_FIELDS = [
    {"name": "inviter", "type": "address"},
    {"name": "nonce", "type": "uint256"},
    {"name": "expiry", "type": "uint64"},
    {"name": "maxUses", "type": "uint32"},
]
INVITATION_TYPES = {"Invitation": _INVITATION_FIELDS}
JOIN_REQUEST_TYPES = {
    "JoinRequest": [
        {"name": "applicant", "type": "address"},
        {"name": "introHash", "type": "bytes32"},
        {"name": "invitation", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
ADD_KEY_TYPES = {
    "AddKey": [
        {"name": "owner", "type": "address"},
        {"name": "key", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
INVITATION_TYPEHASH = keccak(text="Invitation(address inviter,uint256 nonce,uint64 expiry,uint32 maxUses)")
_TAG_INVITATION = "invitation"
_TAG_JOIN = "join-request"
_TAG_KEY = "add-key"


class InvitationFormatError(GovernanceError):
    """Bytes that are not a well-formed invitation, join request or key authorisation."""


@dataclass(frozen=True)
class Invitation:
    """A member's invitation: ``nonce`` is a random 256-bit id, ``expiry`` a unix time, and
    ``max_uses`` how many join requests it may admit."""

    inviter: Address
    nonce: int
    expiry: int
    max_uses: int

    def __post_init__(self) -> None:
        _check_uint(self.nonce, 256, "invitation nonce")
        _check_uint(self.expiry, 64, "invitation expiry")
        _check_uint(self.max_uses, 32, "invitation max uses")

    @property
    def id(self) -> bytes:
        """The invitation's id: its EIP-712 struct hash, as the contract's ``invitationId``."""
        encoded = abi_encode(
            ["bytes32", "address", "uint256", "uint64", "uint32"],
            [INVITATION_TYPEHASH, self.inviter, self.nonce, self.expiry, self.max_uses],
        )
        return keccak(encoded)

    def as_tuple(self) -> tuple[str, int, int, int]:
        """The contract call argument (an ``Invitation`` struct)."""
        return (self.inviter, self.nonce, self.expiry, self.max_uses)

    def _fields(self) -> list[Any]:
        return [_addr_bytes(self.inviter), self.nonce.to_bytes(32, "big"), self.expiry, self.max_uses]

    @classmethod
    def _from_fields(cls, raw: Any) -> Invitation:
        inviter, nonce, expiry, max_uses = _array(raw, 4, "invitation")
        return cls(_addr(inviter), _uint256(nonce, "invitation nonce"), _int(expiry), _int(max_uses))


@dataclass(frozen=True)
class SignedInvitation:
    invitation: Invitation
    signature: bytes

    def to_bytes(self) -> bytes:
        return _pack(_TAG_INVITATION, [self.invitation._fields(), self.signature])

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedInvitation:
        return cls._from_fields(_unpack(data, _TAG_INVITATION))

    @classmethod
    def _from_fields(cls, raw: Any) -> SignedInvitation:
        invitation, signature = _array(raw, 2, "signed invitation")
        return cls(Invitation._from_fields(invitation), _sig(signature))


@dataclass(frozen=True)
class SignedJoinRequest:
    """A newcomer's join request under a member's invitation; its nonce is the applicant's
    contract nonce at signing time (0 for an account that never signed anything)."""

    applicant: Address
    intro_hash: bytes
    invitation: SignedInvitation
    deadline: int
    signature: bytes

    def to_bytes(self) -> bytes:
        inv = [self.invitation.invitation._fields(), self.invitation.signature]
        fields = [_addr_bytes(self.applicant), self.intro_hash, inv, self.deadline, self.signature]
        return _pack(_TAG_JOIN, fields)

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedJoinRequest:
        applicant, intro, inv, deadline, signature = _array(_unpack(data, _TAG_JOIN), 5, "join request")
        return cls(
            _addr(applicant),
            _b32(intro, "intro hash"),
            SignedInvitation._from_fields(inv),
            _int(deadline),
            _sig(signature),
        )


@dataclass(frozen=True)
class SignedKeyAuthorisation:
    """A member's authorisation of the ed25519 app key ``key``, for ``addKeyBySig``."""

    owner: Address
    key: bytes
    deadline: int
    nonce: int
    signature: bytes

    def to_bytes(self) -> bytes:
        fields = [_addr_bytes(self.owner), self.key, self.deadline, self.nonce, self.signature]
        return _pack(_TAG_KEY, fields)

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedKeyAuthorisation:
        owner, key, deadline, nonce, signature = _array(_unpack(data, _TAG_KEY), 5, "key authorisation")
        return cls(_addr(owner), _b32(key, "app key"), _int(deadline), _int(nonce), _sig(signature))


# ---------------------------------------------------------------------- signing and recovery


def _invitation_signable(domain: BallotDomain, invitation: Invitation) -> Any:
    message = {
        "inviter": invitation.inviter,
        "nonce": invitation.nonce,
        "expiry": invitation.expiry,
        "maxUses": invitation.max_uses,
    }
    return encode_typed_data(domain.as_dict(), INVITATION_TYPES, message)


def _join_signable(
    domain: BallotDomain, applicant: str, intro_hash: bytes, invitation: Invitation, nonce: int, deadline: int
) -> Any:
    message = {
        "applicant": applicant,
        "introHash": intro_hash,
        "invitation": invitation.id,
        "nonce": nonce,
        "deadline": deadline,
    }
    return encode_typed_data(domain.as_dict(), JOIN_REQUEST_TYPES, message)


def _key_signable(domain: BallotDomain, owner: str, key: bytes, nonce: int, deadline: int) -> Any:
    message = {"owner": owner, "key": key, "nonce": nonce, "deadline": deadline}
    return encode_typed_data(domain.as_dict(), ADD_KEY_TYPES, message)


def _sign(account: LocalAccount, signable: Any) -> bytes:
    return normalize_signature(bytes(account.sign_message(signable).signature))


def _recover(signable: Any, signature: bytes) -> Address:
    try:
        return Address(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # eth-keys raises several types for garbage signatures
        raise InvitationFormatError(f"the signature cannot be recovered ({exc})") from None


def sign_invitation(account: LocalAccount, domain: BallotDomain, invitation: Invitation) -> SignedInvitation:
    """Signs ``invitation`` as its inviter (low-s). The inviter must be ``account``."""
    if invitation.inviter.lower() != account.address.lower():
        raise InvitationFormatError(f"the invitation names {invitation.inviter} as inviter, not {account.address}")
    return SignedInvitation(invitation, _sign(account, _invitation_signable(domain, invitation)))


def recover_invitation(domain: BallotDomain, signed: SignedInvitation) -> Address:
    """Who signed the invitation (the contract admits it only if that is its inviter)."""
    return _recover(_invitation_signable(domain, signed.invitation), signed.signature)


def sign_join_request(
    account: LocalAccount,
    domain: BallotDomain,
    intro_hash: bytes,
    invitation: SignedInvitation,
    deadline: int,
    nonce: int,
) -> SignedJoinRequest:
    """Signs ``account``'s request to join under ``invitation``; ``nonce`` is its contract nonce."""
    intro = _b32(intro_hash, "intro hash")
    signable = _join_signable(domain, account.address, intro, invitation.invitation, nonce, deadline)
    return SignedJoinRequest(Address(account.address), intro, invitation, deadline, _sign(account, signable))


def recover_join_request(domain: BallotDomain, request: SignedJoinRequest, nonce: int) -> Address:
    """Who signed the join request, for the applicant's current ``nonce``."""
    inv = request.invitation.invitation
    signable = _join_signable(domain, request.applicant, request.intro_hash, inv, nonce, request.deadline)
    return _recover(signable, request.signature)


def sign_key_authorisation(
    account: LocalAccount, domain: BallotDomain, owner: str, key: bytes, nonce: int, deadline: int
) -> SignedKeyAuthorisation:
    """Signs the authorisation of app key ``key`` for ``owner`` (who must be ``account``)."""
    if owner.lower() != account.address.lower():
        raise InvitationFormatError(f"a key authorisation for {owner} must be signed by {owner}, not {account.address}")
    k = _b32(key, "app key")
    signature = _sign(account, _key_signable(domain, account.address, k, nonce, deadline))
    return SignedKeyAuthorisation(Address(account.address), k, deadline, nonce, signature)


def recover_key_authorisation(domain: BallotDomain, auth: SignedKeyAuthorisation) -> Address:
    """Who signed the key authorisation."""
    return _recover(_key_signable(domain, auth.owner, auth.key, auth.nonce, auth.deadline), auth.signature)


# ---------------------------------------------------------------------- wire helpers


def _pack(tag: str, fields: list[Any]) -> bytes:
    return bytes(msgpack.packb([WIRE_VERSION, tag, *fields], use_bin_type=True))


def _unpack(data: bytes, tag: str) -> list[Any]:
    try:
        raw = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises several types for malformed input
        raise InvitationFormatError(f"not a {tag} (not msgpack: {exc})") from None
    if not isinstance(raw, list) or len(raw) < 2 or raw[0] != WIRE_VERSION or raw[1] != tag:
        raise InvitationFormatError(f"not a {tag} of version {WIRE_VERSION}")
    if _pack(tag, raw[2:]) != bytes(data):
        raise InvitationFormatError(f"the {tag} is not in canonical encoding")
    return list(raw[2:])


def _array(raw: Any, n: int, what: str) -> list[Any]:
    if not isinstance(raw, list) or len(raw) != n:
        raise InvitationFormatError(f"a {what} has {n} fields")
    return raw


def _check_uint(value: int, bits: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**bits:
        raise InvitationFormatError(f"the {what} must be an unsigned {bits}-bit integer, not {value!r}")


def _int(raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise InvitationFormatError(f"expected an unsigned integer, got {raw!r}")
    return raw


def _uint256(raw: Any, what: str) -> int:
    return int.from_bytes(_b32(raw, what), "big")


def _b32(raw: Any, what: str) -> bytes:
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise InvitationFormatError(f"the {what} must be 32 bytes")
    return raw


def _sig(raw: Any) -> bytes:
    if not isinstance(raw, bytes) or len(raw) != 65:
        raise InvitationFormatError("a signature must be 65 bytes")
    return raw


def _addr(raw: Any) -> Address:
    if not isinstance(raw, bytes) or len(raw) != 20:
        raise InvitationFormatError("an address must be 20 bytes")
    return Address(to_checksum_address(raw))


def _addr_bytes(address: str) -> bytes:
    return bytes.fromhex(address.removeprefix("0x"))
