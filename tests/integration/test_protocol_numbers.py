"""One source for each protocol number: the contract's ceilings and bounds, and the Python
constants that mirror them on both sides of the layer boundary (``governance.types`` for the
voters' client, ``node.core.limits`` for what a node accepts).

The two Python packages never import each other, so each keeps its own copy; these tests tie both
copies to the contract, read from its source and from the deployed bytecode on Anvil.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from web3.exceptions import ContractLogicError
from web3.types import TxParams

from governance import types as gov
from governance.artifacts import community_artifact
from governance.devchain import DevCommunity
from governance.errors import InvalidMediaPolicy
from governance.reverts import RevertDecoder
from node.core import limits

SOURCE = Path(__file__).resolve().parents[2] / "contracts" / "Community.sol"


def contract_constant(name: str) -> int:
    """The value of ``uintN ... constant NAME = value;`` in the contract's source."""
    text = SOURCE.read_text(encoding="utf-8")
    match = re.search(rf"\buint\d+\s+(?:public|private|internal)\s+constant\s+{name}\s*=\s*([^;]+);", text)
    assert match is not None, f"no constant {name} in {SOURCE}"
    value = match.group(1).strip()
    days = re.fullmatch(r"(\d+)\s+days", value)
    return int(days.group(1)) * 24 * 3600 if days else int(value, 0)


def test_attachment_ceilings_agree_with_the_contract_source() -> None:
    max_attachments = contract_constant("_MAX_ATTACHMENTS")
    max_kib = contract_constant("_MAX_ATTACHMENT_KIB")
    assert gov.MAX_ATTACHMENTS == limits.MAX_ATTACHMENTS == max_attachments
    assert gov.MAX_ATTACHMENT_KIB == limits.MAX_ATTACHMENT_KIB == max_kib
    assert max_kib * 1024 == limits.MAX_ATTACHMENT_BYTES
    assert gov.DEFAULT_MEDIA_POLICY.max_attachment_bytes == limits.MAX_ATTACHMENT_BYTES


def test_voting_period_bounds_agree_with_the_contract_source() -> None:
    assert contract_constant("MIN_VOTING_PERIOD") == gov.Rules.MIN_VOTING_PERIOD
    assert contract_constant("MAX_VOTING_PERIOD") == gov.Rules.MAX_VOTING_PERIOD


def test_removal_votes_agree_with_the_contract_source() -> None:
    assert contract_constant("_MIN_REMOVAL_VOTES") == gov.MIN_REMOVAL_VOTES


def test_the_deployed_contract_starts_at_the_ceilings(community: DevCommunity) -> None:
    """A new community's media policy is the protocol's ceiling, as both Python copies say."""
    policy = community.client().media_policy()
    assert (policy.max_attachments, policy.max_attachment_kib) == (gov.MAX_ATTACHMENTS, gov.MAX_ATTACHMENT_KIB)
    assert (policy.max_attachments, policy.max_attachment_bytes) == (
        limits.MAX_ATTACHMENTS,
        limits.MAX_ATTACHMENT_BYTES,
    )


def test_the_deployed_contract_bounds_the_voting_period(community: DevCommunity) -> None:
    client = community.client()
    contract = client.w3.eth.contract(address=client.address, abi=community_artifact().abi)
    assert contract.functions.MIN_VOTING_PERIOD().call() == gov.Rules.MIN_VOTING_PERIOD
    assert contract.functions.MAX_VOTING_PERIOD().call() == gov.Rules.MAX_VOTING_PERIOD


@pytest.mark.parametrize(
    ("max_attachments", "max_kib", "accepted"),
    [
        (gov.MAX_ATTACHMENTS, gov.MAX_ATTACHMENT_KIB, True),
        (gov.MAX_ATTACHMENTS + 1, gov.MAX_ATTACHMENT_KIB, False),
        (gov.MAX_ATTACHMENTS, gov.MAX_ATTACHMENT_KIB + 1, False),
    ],
)
def test_the_deployed_contract_refuses_a_policy_above_the_ceilings(
    community: DevCommunity, max_attachments: int, max_kib: int, accepted: bool
) -> None:
    """A simulated proposal (eth_call, nothing is sent) at the ceiling passes the contract's check
    and one step above it is refused: the Python ceilings are exactly the contract's."""
    abi = community_artifact().abi
    client = community.client()
    contract = client.w3.eth.contract(address=client.address, abi=abi)
    decision = contract.encode_abi("setMediaPolicy", args=[max_attachments, max_kib])
    call = contract.functions.propose([client.address], [0], [decision], "")
    sender: TxParams = {"from": community.founders[0].address}
    if accepted:
        call.call(sender)
        return
    with pytest.raises(ContractLogicError) as refused:
        call.call(sender)
    error = RevertDecoder(abi).decode(bytes.fromhex(str(refused.value.data)[2:]))
    assert isinstance(error, InvalidMediaPolicy)
