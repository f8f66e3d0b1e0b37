"""EIP-712 ballots: signing, recovery, files and malleability (no chain needed)."""

from __future__ import annotations

import pytest

from governance.accounts import dev_account
from governance.ballot import (
    SECP256K1_N,
    BallotDomain,
    SignedBallot,
    malleate,
    normalize_signature,
    sign_ballot,
)
from governance.client import checksum
from governance.errors import BallotError
from governance.types import ProposalId, Support

DOMAIN = BallotDomain("Kiez am Kanal", 31337, checksum("0x700b6A60ce7EaaEA56F065753d8dcB9653dbAD35"))


def ballot(support: Support = Support.FOR, nonce: int = 0) -> SignedBallot:
    return sign_ballot(dev_account(1), DOMAIN, ProposalId(2**200 + 5), support, nonce)


def test_signature_recovers_the_voter() -> None:
    signed = ballot()
    assert signed.voter == dev_account(1).address
    assert signed.signer() == signed.voter
    assert len(signed.signature) == 65
    assert signed.signature[64] in (27, 28)


def test_signature_is_low_s() -> None:
    for nonce in range(8):
        s = int.from_bytes(ballot(nonce=nonce).signature[32:64], "big")
        assert s <= SECP256K1_N // 2


def test_changing_any_field_changes_the_signer() -> None:
    signed = ballot()
    for changed in (
        SignedBallot(**{**signed.__dict__, "support": Support.AGAINST}),
        SignedBallot(**{**signed.__dict__, "nonce": 1}),
        SignedBallot(**{**signed.__dict__, "chain_id": 1}),
        SignedBallot(**{**signed.__dict__, "proposal_id": ProposalId(6)}),
        SignedBallot(**{**signed.__dict__, "community_name": "another"}),
    ):
        assert changed.signer() != signed.voter


def test_malleate_and_normalize_are_inverse() -> None:
    signature = ballot().signature
    high = malleate(signature)
    assert int.from_bytes(high[32:64], "big") > SECP256K1_N // 2
    assert high != signature
    assert normalize_signature(high) == signature
    # the high-s twin is still a valid ECDSA signature by the same key: only the contract's
    # low-s rule refuses it
    twin = SignedBallot(**{**ballot().__dict__, "signature": high})
    assert twin.signer() == dev_account(1).address


def test_json_round_trip() -> None:
    signed = ballot(Support.ABSTAIN, nonce=3)
    text = signed.to_json()
    assert '"format": "kiez-ballot/1"' in text
    assert '"proposal_id": "0x' in text  # hex: JSON readers lose precision on big integers
    assert SignedBallot.from_json(text) == signed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ('{"format": "something/1"}', "not a ballot file"),
        ('{"format": "kiez-ballot/1"}', "lacks the field"),
    ],
)
def test_bad_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BallotError, match=message):
        SignedBallot.from_json(text)


def test_bad_values_say_what_is_wrong() -> None:
    text = ballot().to_json().replace('"for"', '"perhaps"')
    with pytest.raises(BallotError, match="invalid value"):
        SignedBallot.from_json(text)
