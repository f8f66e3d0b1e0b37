"""Signed ballots: a vote signed off-chain (EIP-712) that anyone can relay with castVoteBySig.

The typed data is OpenZeppelin Governor's ``Ballot(uint256 proposalId,uint8 support,address voter,
uint256 nonce)``, under the domain (community name, protocol version, chain id, contract address).
The domain is what stops a ballot from being replayed on another chain or another community; the
proposal id stops replay across proposals; the nonce makes a ballot usable once.

Pure: no connection needed, so a voter can sign on an offline machine.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from governance.errors import BallotError
from governance.jsontext import BadJson, parse
from governance.types import Address, ProposalId, Support

BALLOT_TYPES = {
    "Ballot": [
        {"name": "proposalId", "type": "uint256"},
        {"name": "support", "type": "uint8"},
        {"name": "voter", "type": "address"},
        {"name": "nonce", "type": "uint256"},
    ]
}
FILE_FORMAT = "kiez-ballot/1"
PROTOCOL_VERSION = "1"
#: secp256k1 group order; signatures with s above half of it are malleable.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class BallotDomain:
    """The EIP-712 domain of one community contract."""

    name: str
    chain_id: int
    verifying_contract: Address
    version: str = PROTOCOL_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True)
class SignedBallot:
    """A ballot and its 65-byte signature (r || s || v, v in {27, 28})."""

    community: Address
    chain_id: int
    community_name: str
    proposal_id: ProposalId
    support: Support
    voter: Address
    nonce: int
    signature: bytes

    @property
    def domain(self) -> BallotDomain:
        return BallotDomain(self.community_name, self.chain_id, self.community)

    def signer(self) -> Address:
        """The address that produced the signature (whatever ``voter`` claims)."""
        signable = _signable(self.domain, self.proposal_id, self.support, self.voter, self.nonce)
        return Address(Account.recover_message(signable, signature=self.signature))

    def to_json(self) -> str:
        data = asdict(self)
        data["support"] = self.support.label
        data["proposal_id"] = f"{self.proposal_id:#066x}"
        data["signature"] = "0x" + self.signature.hex()
        return json.dumps({"format": FILE_FORMAT, **data}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> SignedBallot:
        """Reads a ballot file, saying exactly which field is wrong."""
        try:
            data = parse(text)
        except BadJson as exc:
            raise BallotError(f"not a ballot file: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise BallotError(f'not a ballot file: expected "format": "{FILE_FORMAT}"')
        try:
            signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
            return cls(
                community=Address(to_checksum_address(data["community"])),
                chain_id=int(data["chain_id"]),
                community_name=str(data["community_name"]),
                proposal_id=ProposalId(int(str(data["proposal_id"]), 0)),
                support=Support.parse(str(data["support"])),
                voter=Address(to_checksum_address(data["voter"])),
                nonce=int(data["nonce"]),
                signature=signature,
            )
        except KeyError as exc:
            raise BallotError(f"ballot file lacks the field {exc.args[0]!r}") from None
        except (ValueError, TypeError) as exc:
            raise BallotError(f"ballot file has an invalid value: {exc}") from None


def _signable(domain: BallotDomain, proposal_id: int, support: Support, voter: str, nonce: int) -> Any:
    message = {"proposalId": proposal_id, "support": int(support), "voter": voter, "nonce": nonce}
    return encode_typed_data(domain.as_dict(), BALLOT_TYPES, message)


def sign_ballot(
    account: LocalAccount,
    domain: BallotDomain,
    proposal_id: ProposalId,
    support: Support,
    nonce: int,
) -> SignedBallot:
    """Signs ``account``'s vote; the result is always low-s (not malleable)."""
    signed = account.sign_message(_signable(domain, proposal_id, support, account.address, nonce))
    signature = normalize_signature(bytes(signed.signature))
    return SignedBallot(
        community=domain.verifying_contract,
        chain_id=domain.chain_id,
        community_name=domain.name,
        proposal_id=proposal_id,
        support=support,
        voter=Address(account.address),
        nonce=nonce,
        signature=signature,
    )


def normalize_signature(signature: bytes) -> bytes:
    """The low-s form of a 65-byte signature (flipping s and v if needed)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    if s > SECP256K1_N // 2:
        s = SECP256K1_N - s
        v = 27 if v == 28 else 28
    return r + s.to_bytes(32, "big") + bytes([v])


def malleate(signature: bytes) -> bytes:
    """The other (high-s) signature that ecrecover also accepts. For tests of the contract's
    refusal; never used to vote."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([27 if v == 28 else 28])
