"""A generic Governor tool drives a kiez community: plain web3 with OpenZeppelin's published IGovernor
ABI only (the npm package's build/contracts/IGovernor.json), never kiez's; plus, for the tallies,
``proposalVotes`` from OpenZeppelin's GovernorCountingSimple ABI, where OpenZeppelin declares it.

It creates an add-member proposal (one call of the community's ``addMember``, the way a front end
builds a custom call), votes on it, reads everything IGovernor offers, executes it, and decodes
every IGovernor event in the receipts with that ABI; kiez's own events beside them must not be
mistaken for IGovernor ones. The applicant's join request, the precondition of an admission, is
the applicant's own act and is made with the kiez client.
"""

from __future__ import annotations

import json
from functools import cache, reduce
from typing import Any, cast

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from governance.accounts import dev_account
from governance.anvil import Anvil, project_root
from governance.devchain import DevCommunity
from tests.integration.plain_web3 import send

OZ_BUILD = project_root() / "node_modules/@openzeppelin/contracts/build/contracts"
IGOVERNOR = OZ_BUILD / "IGovernor.json"
#: Functions IGovernor inherits (ERC-165, ERC-6372): not part of its own interface id.
INHERITED = {"supportsInterface", "clock", "CLOCK_MODE"}
DESCRIPTION = "Admit our new neighbour"
ACTIVE, SUCCEEDED, EXECUTED = 1, 4, 7
AGAINST, FOR = 0, 1

account = cache(dev_account)


@cache
def igovernor_abi() -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], json.loads(IGOVERNOR.read_text())["abi"])


@cache
def tool_abi() -> list[dict[str, Any]]:
    """IGovernor's ABI and GovernorCountingSimple's proposalVotes."""
    counting = json.loads((OZ_BUILD / "GovernorCountingSimple.json").read_text())["abi"]
    votes = [i for i in counting if i.get("name") == "proposalVotes"]
    return [*igovernor_abi(), *votes]


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"


def interface_id() -> bytes:
    """IGovernor's ERC-165 id: the XOR of its own functions' selectors."""
    selectors = [
        int.from_bytes(keccak(text=signature(i))[:4], "big")
        for i in igovernor_abi()
        if i["type"] == "function" and i["name"] not in INHERITED
    ]
    return reduce(lambda a, b: a ^ b, selectors).to_bytes(4, "big")


def event_topics() -> dict[bytes, str]:
    return {keccak(text=signature(i)): i["name"] for i in igovernor_abi() if i["type"] == "event"}


def governor_events(governor: Contract, receipt: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every log of the receipt whose topic0 is an IGovernor event, decoded with IGovernor's ABI."""
    names = event_topics()
    out = []
    for log in receipt["logs"]:
        name = names.get(bytes(log["topics"][0]))
        if name is not None:
            decoded = getattr(governor.events, name)().process_log(log)
            out.append((name, dict(decoded["args"])))
    return out


def error_selector(name: str) -> bytes:
    item = next(i for i in igovernor_abi() if i["type"] == "error" and i["name"] == name)
    return keccak(text=signature(item))[:4]


def test_a_generic_governor_tool_creates_votes_reads_and_executes(anvil: Anvil, community: DevCommunity) -> None:
    w3 = anvil.web3()
    governor = w3.eth.contract(address=community.address, abi=tool_abi())
    f0, f1, f2 = community.founders
    applicant = account(7)
    community.client(applicant).request_to_join(keccak(text="hello"))

    assert governor.functions.supportsInterface(interface_id()).call()
    assert governor.functions.supportsInterface(bytes.fromhex("01ffc9a7")).call()  # ERC-165 itself
    assert not governor.functions.supportsInterface(bytes.fromhex("ffffffff")).call()
    assert governor.functions.COUNTING_MODE().call() == "support=bravo&quorum=for,against,abstain"
    assert governor.functions.CLOCK_MODE().call() == "mode=timestamp"
    assert governor.functions.name().call() == "kiez devnet"
    assert (governor.functions.votingDelay().call(), governor.functions.proposalThreshold().call()) == (0, 1)

    call = keccak(text="addMember(address)")[:4] + abi_encode(["address"], [applicant.address])
    targets, values, calldatas = [community.address], [0], [call]
    receipt = send(w3, f0, governor.functions.propose(targets, values, calldatas, DESCRIPTION))
    (created,) = [args for name, args in governor_events(governor, receipt) if name == "ProposalCreated"]
    pid = created["proposalId"]
    assert pid == governor.functions.hashProposal(targets, values, calldatas, keccak(text=DESCRIPTION)).call()
    assert pid == governor.functions.getProposalId(targets, values, calldatas, keccak(text=DESCRIPTION)).call()
    assert created["proposer"] == f0.address
    assert (created["targets"], created["values"], created["signatures"]) == (targets, values, [""])
    assert [bytes(c) for c in created["calldatas"]] == calldatas
    assert created["description"] == DESCRIPTION
    snapshot, deadline = created["voteStart"], created["voteEnd"]
    assert deadline - snapshot == governor.functions.votingPeriod().call()
    assert governor.functions.proposalSnapshot(pid).call() == snapshot
    assert governor.functions.proposalDeadline(pid).call() == deadline
    assert governor.functions.proposalProposer(pid).call() == f0.address
    assert governor.functions.state(pid).call() == ACTIVE
    assert [governor.functions.getVotes(f.address, snapshot).call() for f in (f0, f1, f2)] == [1, 1, 1]
    assert governor.functions.getVotes(applicant.address, snapshot).call() == 0
    assert governor.functions.quorum(snapshot).call() == 2  # 50 % of 3 members, rounded up

    votes = [
        send(w3, f0, governor.functions.castVote(pid, FOR)),
        send(w3, f1, governor.functions.castVoteWithReason(pid, AGAINST, "let us meet her first")),
    ]
    assert governor.functions.state(pid).call() == ACTIVE
    votes.append(send(w3, f2, governor.functions.castVote(pid, FOR)))
    cast_events = [args for r in votes for name, args in governor_events(governor, r) if name == "VoteCast"]
    assert [(v["voter"], v["proposalId"], v["support"], v["weight"], v["reason"]) for v in cast_events] == [
        (f0.address, pid, FOR, 1, ""),
        (f1.address, pid, AGAINST, 1, "let us meet her first"),
        (f2.address, pid, FOR, 1, ""),
    ]
    assert governor.functions.proposalVotes(pid).call() == [1, 2, 0]  # against, for, abstain
    assert governor.functions.hasVoted(pid, f1.address).call()
    assert not governor.functions.hasVoted(pid, applicant.address).call()
    assert governor.functions.state(pid).call() == SUCCEEDED  # decided early: all three voted

    executed = send(w3, account(9), governor.functions.execute(targets, values, calldatas, keccak(text=DESCRIPTION)))
    assert [e for e in governor_events(governor, executed)] == [("ProposalExecuted", {"proposalId": pid})]
    assert governor.functions.state(pid).call() == EXECUTED
    now = w3.eth.get_block("latest")["timestamp"]
    assert governor.functions.getVotes(applicant.address, now).call() == 1
    assert governor.functions.quorum(now).call() == 2  # 50 % of 4
    # kiez's own events (ProposalNumbered, MemberAdded) sit beside IGovernor's; none is taken for one.
    others = [bytes(log["topics"][0]) for r in [receipt, *votes, executed] for log in r["logs"]]
    others = [t for t in others if t not in event_topics()]
    kiez = [
        keccak(text="ProposalNumbered(uint256,uint256,uint256)"),
        keccak(text="MemberAdded(address,uint256,uint256)"),
    ]
    assert others == kiez


def test_unknown_ids_read_as_zeros_and_state_reverts_as_openzeppelin(community: DevCommunity, anvil: Anvil) -> None:
    governor = anvil.web3().eth.contract(address=community.address, abi=tool_abi())
    unknown = 12345
    assert governor.functions.proposalSnapshot(unknown).call() == 0
    assert governor.functions.proposalDeadline(unknown).call() == 0
    assert governor.functions.proposalVotes(unknown).call() == [0, 0, 0]
    assert not governor.functions.hasVoted(unknown, community.founders[0].address).call()
    assert governor.functions.proposalProposer(unknown).call() == "0x" + "0" * 40
    with pytest.raises((ContractCustomError, ContractLogicError)) as refused:
        governor.functions.state(unknown).call()
    data = bytes.fromhex(str(refused.value.data)[2:])
    assert data == error_selector("GovernorNonexistentProposal") + abi_encode(["uint256"], [unknown])


def test_a_call_that_is_not_a_kiez_decision_is_refused(community: DevCommunity, anvil: Anvil) -> None:
    w3 = anvil.web3()
    governor = w3.eth.contract(address=community.address, abi=tool_abi())
    f0 = community.founders[0]
    transfer = keccak(text="transfer(address,uint256)")[:4] + abi_encode(["address", "uint256"], [f0.address, 1])
    for targets, values, calldatas in (
        ([community.address], [0], [transfer]),  # not a decision function
        ([f0.address], [0], [keccak(text="addMember(address)")[:4] + bytes(32)]),  # another contract
        ([community.address], [1], [keccak(text="setCharter(bytes32)")[:4] + bytes(32)]),  # with ether
    ):
        with pytest.raises((ContractCustomError, ContractLogicError)) as refused:
            governor.functions.propose(targets, values, calldatas, "x").call({"from": f0.address})
        data = bytes.fromhex(str(refused.value.data)[2:])
        assert data[:4] == keccak(text="UnsupportedCall(address,uint256,bytes4)")[:4]
    # The decision functions themselves answer only the contract (OpenZeppelin's onlyGovernance).
    set_charter = keccak(text="setCharter(bytes32)")[:4] + bytes(32)
    direct = {"to": community.address, "from": f0.address, "data": "0x" + set_charter.hex()}
    with pytest.raises((ContractCustomError, ContractLogicError)) as only:
        w3.eth.call(cast(Any, direct))
    data = bytes.fromhex(str(only.value.data)[2:])
    assert data == error_selector("GovernorOnlyExecutor") + abi_encode(["address"], [f0.address])
