"""Invitations, join requests and key authorisations: wire form, ids and signer recovery (no chain).

The contract's side of the same digests is checked on Anvil (tests/integration/
test_contract_onboarding.py); here, that the bytes round-trip exactly, that anything malformed is
refused with ``InvitationFormatError``, and that recovery names the signer only for the exact fields.
"""

from __future__ import annotations

from dataclasses import replace

import msgpack
import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from governance.accounts import dev_account
from governance.ballot import BallotDomain, malleate
from governance.errors import GovernanceError
from governance.invitations import (
    Invitation,
    InvitationFormatError,
    SignedInvitation,
    SignedJoinRequest,
    SignedKeyAuthorisation,
    recover_invitation,
    recover_join_request,
    recover_key_authorisation,
    sign_invitation,
    sign_join_request,
    sign_key_authorisation,
)
from governance.types import Address

DOMAIN = BallotDomain("kiez test", 31337, Address(to_checksum_address("0x5fbdb2315678afecb367f032d93f642f64180aa3")))
INVITER, APPLICANT = dev_account(0), dev_account(5)
INTRO = keccak(text="hi")
INV = Invitation(Address(INVITER.address), 2**256 - 3, 1_900_000_000, 2)


@pytest.fixture
def request_() -> SignedJoinRequest:
    return sign_join_request(APPLICANT, DOMAIN, INTRO, sign_invitation(INVITER, DOMAIN, INV), 1_800_000_000, 4)


def test_invitation_id_is_its_eip712_struct_hash() -> None:
    typehash = keccak(text="Invitation(address inviter,uint256 nonce,uint64 expiry,uint32 maxUses)")
    expected = keccak(abi_encode(["bytes32", "address", "uint256", "uint64", "uint32"], [typehash, *INV.as_tuple()]))
    assert INV.id == expected
    assert replace(INV, max_uses=3).id != INV.id


def test_round_trips_are_exact(request_: SignedJoinRequest) -> None:
    signed_inv = request_.invitation
    assert SignedInvitation.from_bytes(signed_inv.to_bytes()) == signed_inv
    assert SignedJoinRequest.from_bytes(request_.to_bytes()) == request_
    auth = sign_key_authorisation(APPLICANT, DOMAIN, APPLICANT.address, keccak(text="key"), 7, 1_800_000_000)
    assert SignedKeyAuthorisation.from_bytes(auth.to_bytes()) == auth


def test_recovery_names_the_signer_only_for_the_exact_fields(request_: SignedJoinRequest) -> None:
    assert recover_invitation(DOMAIN, request_.invitation) == INVITER.address
    assert recover_join_request(DOMAIN, request_, 4) == APPLICANT.address
    assert recover_join_request(DOMAIN, request_, 5) != APPLICANT.address
    assert recover_join_request(DOMAIN, replace(request_, deadline=request_.deadline + 1), 4) != APPLICANT.address
    assert recover_join_request(replace(DOMAIN, chain_id=1), request_, 4) != APPLICANT.address
    changed = replace(request_.invitation, invitation=replace(INV, expiry=INV.expiry + 1))
    assert recover_invitation(DOMAIN, changed) != INVITER.address
    auth = sign_key_authorisation(APPLICANT, DOMAIN, APPLICANT.address, keccak(text="key"), 0, 1_800_000_000)
    assert recover_key_authorisation(DOMAIN, auth) == APPLICANT.address
    assert recover_key_authorisation(DOMAIN, replace(auth, key=keccak(text="other"))) != APPLICANT.address


def test_signatures_are_low_s(request_: SignedJoinRequest) -> None:
    for sig in (request_.signature, request_.invitation.signature):
        assert int.from_bytes(sig[32:64], "big") <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
        assert malleate(sig) != sig


def test_signing_for_someone_else_is_refused() -> None:
    with pytest.raises(InvitationFormatError, match=r"names .* as inviter"):
        sign_invitation(APPLICANT, DOMAIN, INV)
    with pytest.raises(InvitationFormatError, match="must be signed by"):
        sign_key_authorisation(APPLICANT, DOMAIN, INVITER.address, keccak(text="k"), 0, 1)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        msgpack.packb([2, "join-request"]),
        msgpack.packb([1, "invitation", [], b""]),
        msgpack.packb({"a": 1}),
    ],
)
def test_malformed_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(InvitationFormatError):
        SignedJoinRequest.from_bytes(data)


def test_wrong_kind_short_fields_and_non_canonical_encoding_are_refused(request_: SignedJoinRequest) -> None:
    with pytest.raises(InvitationFormatError, match="not a invitation"):
        SignedInvitation.from_bytes(request_.to_bytes())
    raw = msgpack.unpackb(request_.to_bytes())
    raw[3] = b"\x00" * 31  # a 31-byte intro hash
    with pytest.raises(InvitationFormatError, match="32 bytes"):
        SignedJoinRequest.from_bytes(msgpack.packb(raw, use_bin_type=True))
    canonical = request_.to_bytes()
    short = b"\xce" + request_.deadline.to_bytes(4, "big")
    assert canonical.count(short) == 1
    wide = canonical.replace(short, b"\xcf" + request_.deadline.to_bytes(8, "big"))
    assert msgpack.unpackb(wide) == msgpack.unpackb(canonical)
    with pytest.raises(InvitationFormatError, match="canonical"):
        SignedJoinRequest.from_bytes(wide)


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(InvitationFormatError, match="64-bit"):
        Invitation(Address(INVITER.address), 1, 2**64, 1)
    assert issubclass(InvitationFormatError, GovernanceError)
