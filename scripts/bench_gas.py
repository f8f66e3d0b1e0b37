#!/usr/bin/env python3
"""Gas of kiez's Community contract beside OpenZeppelin's Governor 5.x, on one Anvil, in one run.

Both communities have the same members (dev accounts 0..N-1) and decide the same thing: admit a
new member. The reference is OpenZeppelin's standard composition (GovernorSettings, CountingSimple,
GovernorVotes with an ERC721Votes token giving each member one vote, QuorumFraction 50 %) calling
``addMember`` on a registry. Both are driven through plain ABI calls (web3 ``castVote(uint256,uint8)``
and so on), not through the kiez client, so the figures are what any tool would pay.

Measured per contract: propose and execute in OpenZeppelin's shape (``propose(targets, values,
calldatas, description)`` with one call of ``addMember``, and ``execute`` of the same), the first
castVote on a proposal, a later castVote and castVoteBySig (a voter's first signed ballot). kiez is
measured again with ``--large`` members (default 200): ``gas_growth_ratio`` is the worst of
propose, castVote and execute with that many members over the same with ``--members``.
Gasless onboarding (kiez only, OpenZeppelin has no counterpart) is measured on a community of its
own: requestToJoinBySig (a newcomer with no ether joins under a member's invitation, which also
opens the AddMember proposal) and addKeyBySig (the admitted newcomer's first app key), both paid by
a relayer. OpenZeppelin is measured twice (legacy and via-IR builds); ratios are ours / the cheaper
OpenZeppelin figure. ``castVote_ratio`` is the worse of the
first and later vote ratios. The last line printed is one JSON object.

The OpenZeppelin governor gets proposalThreshold 1, so that, as in kiez, only members propose.

Usage: .venv/bin/python scripts/bench_gas.py [--members N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from governance.accounts import dev_account
from governance.anvil import Anvil, start_anvil
from governance.artifacts import community_artifact
from governance.ballot import BallotDomain, sign_ballot
from governance.invitations import Invitation, sign_invitation, sign_join_request, sign_key_authorisation
from governance.rpc import gas_limit
from governance.types import Address, ProposalId, Support

ROOT = Path(__file__).resolve().parent.parent

DESCRIPTION = "Admit our new neighbour: she runs the repair café on Thursdays."


def send(w3: Web3, account: LocalAccount, call: Any) -> dict[str, Any]:
    tx = call.build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    )
    tx["gas"] = gas_limit(int(tx["gas"]))  # headroom; gasUsed, which is measured, does not depend on it
    signed = account.sign_transaction(cast(Any, tx))
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    if receipt["status"] != 1:
        raise SystemExit(f"transaction failed: {call.fn_name}")
    return cast(dict[str, Any], receipt)


def deploy(w3: Web3, account: LocalAccount, abi: Any, bytecode: str, *args: Any) -> Contract:
    receipt = send(w3, account, w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args))
    contract: Contract = w3.eth.contract(address=receipt["contractAddress"], abi=abi)
    return contract


def add_member_call(c: Contract, applicant: str) -> tuple[list[str], list[int], list[bytes]]:
    """The OpenZeppelin-shaped proposal of kiez's decision: one call of addMember on the contract."""
    data = c.encode_abi("addMember", [applicant])
    return [c.address], [0], [bytes.fromhex(data[2:])]


def measure_kiez(
    anvil: Anvil, members: list[LocalAccount], applicant: LocalAccount, quorum_pct: int = 50
) -> dict[str, int]:
    w3 = anvil.web3()
    art = community_artifact()
    deployer = dev_account(9)
    period = 3600
    founders = [m.address for m in members]
    c = deploy(w3, deployer, art.abi, art.bytecode, "bench", founders, quorum_pct, 50, period, bytes(32))
    send(w3, applicant, c.functions.requestToJoin(keccak(text="hello")))
    gas: dict[str, int] = {}
    targets, values, calldatas = add_member_call(c, applicant.address)
    gas["propose"] = send(w3, members[0], c.functions.propose(targets, values, calldatas, DESCRIPTION))["gasUsed"]
    pid = c.functions.hashProposal(targets, values, calldatas, keccak(text=DESCRIPTION)).call()
    gas["castVote_first"] = send(w3, members[0], c.functions.castVote(pid, 1))["gasUsed"]
    gas["castVote_later"] = send(w3, members[1], c.functions.castVote(pid, 1))["gasUsed"]
    domain = BallotDomain("bench", w3.eth.chain_id, Address(c.address))
    ballot = sign_ballot(
        members[2], domain, ProposalId(pid), Support.FOR, c.functions.nonces(members[2].address).call()
    )
    call = c.functions.castVoteBySig(pid, 1, members[2].address, ballot.signature)
    gas["castVoteBySig"] = send(w3, deployer, call)["gasUsed"]
    anvil.advance_time(period + 1)
    call = c.functions.execute(targets, values, calldatas, keccak(text=DESCRIPTION))
    gas["execute"] = send(w3, deployer, call)["gasUsed"]
    assert c.functions.isMember(applicant.address).call()
    return gas


def measure_onboarding(anvil: Anvil, members: list[LocalAccount]) -> dict[str, int]:
    """requestToJoinBySig and addKeyBySig for a fresh account that never holds ether."""
    from eth_account import Account

    w3 = anvil.web3()
    art = community_artifact()
    relayer = dev_account(9)
    founders = [m.address for m in members]
    c = deploy(w3, relayer, art.abi, art.bytecode, "bench", founders, 50, 50, 3600, bytes(32))
    domain = BallotDomain("bench", w3.eth.chain_id, Address(c.address))
    newcomer: LocalAccount = Account.create()
    now = int(w3.eth.get_block("latest")["timestamp"])
    invitation = Invitation(Address(members[0].address), 2**255 + 12345, now + 86400, 1)
    signed_inv = sign_invitation(members[0], domain, invitation)
    request = sign_join_request(newcomer, domain, keccak(text="hello"), signed_inv, now + 3600, 0)
    call = c.functions.requestToJoinBySig(
        newcomer.address,
        request.intro_hash,
        invitation.as_tuple(),
        signed_inv.signature,
        request.deadline,
        request.signature,
    )
    receipt = send(w3, relayer, call)
    gas = {"requestToJoinBySig": receipt["gasUsed"]}
    (created,) = c.events.ProposalCreated().process_receipt(cast(Any, receipt), errors=DISCARD)
    pid = created["args"]["proposalId"]
    for m in members:  # until decided early: a vote after that is refused
        if c.functions.state(pid).call() != 1:
            break
        send(w3, m, c.functions.castVote(pid, 1))
    args = created["args"]
    description_hash = keccak(text=args["description"])
    send(w3, relayer, c.functions.execute(args["targets"], args["values"], args["calldatas"], description_hash))
    auth = sign_key_authorisation(newcomer, domain, newcomer.address, keccak(text="app key"), 1, now + 3600)
    call = c.functions.addKeyBySig(newcomer.address, auth.key, auth.deadline, auth.signature)
    gas["addKeyBySig"] = send(w3, relayer, call)["gasUsed"]
    assert w3.eth.get_balance(newcomer.address) == 0
    return gas


def measure_openzeppelin(
    anvil: Anvil, members: list[LocalAccount], applicant: LocalAccount, artifact: str
) -> dict[str, int]:
    w3 = anvil.web3()
    art = json.loads((ROOT / "contracts/reference/artifacts" / artifact).read_text())["contracts"]
    deployer = dev_account(9)
    period = 3600
    token = deploy(
        w3, deployer, art["MemberVotes"]["abi"], art["MemberVotes"]["bytecode"], [m.address for m in members]
    )
    for m in members:  # ERC721Votes counts votes only once delegated
        send(w3, m, token.functions.delegate(m.address))
    gov = deploy(
        w3, deployer, art["ReferenceGovernor"]["abi"], art["ReferenceGovernor"]["bytecode"], token.address, period, 50
    )
    registry = deploy(w3, deployer, art["MemberRegistry"]["abi"], art["MemberRegistry"]["bytecode"], gov.address)
    anvil.advance_time(1)
    calldata = registry.encode_abi("addMember", [applicant.address])
    targets, values, calldatas = [registry.address], [0], [bytes.fromhex(calldata[2:])]
    gas: dict[str, int] = {}
    receipt = send(w3, members[0], gov.functions.propose(targets, values, calldatas, DESCRIPTION))
    gas["propose"] = receipt["gasUsed"]
    pid = gov.functions.hashProposal(targets, values, calldatas, keccak(text=DESCRIPTION)).call()
    anvil.advance_time(1)  # OpenZeppelin: Pending until the snapshot second has passed
    gas["castVote_first"] = send(w3, members[0], gov.functions.castVote(pid, 1))["gasUsed"]
    gas["castVote_later"] = send(w3, members[1], gov.functions.castVote(pid, 1))["gasUsed"]
    domain = {"name": "Reference", "version": "1", "chainId": w3.eth.chain_id, "verifyingContract": gov.address}
    nonce = gov.functions.nonces(members[2].address).call()
    from eth_account.messages import encode_typed_data

    from governance.ballot import BALLOT_TYPES

    message = {"proposalId": pid, "support": 1, "voter": members[2].address, "nonce": nonce}
    signature = members[2].sign_message(encode_typed_data(domain, BALLOT_TYPES, message)).signature
    call = gov.functions.castVoteBySig(pid, 1, members[2].address, bytes(signature))
    gas["castVoteBySig"] = send(w3, deployer, call)["gasUsed"]
    anvil.advance_time(period + 1)
    gas["execute"] = send(w3, deployer, gov.functions.execute(targets, values, calldatas, keccak(text=DESCRIPTION)))[
        "gasUsed"
    ]
    assert registry.functions.isMember(applicant.address).call()
    return gas


GROWTH_OPS = ("propose", "castVote_later", "execute")


def community_of(size: int) -> list[LocalAccount]:
    """``size`` members: dev accounts 0..7 (8 applies, 9 deploys and relays), then accounts from
    fixed keys; only the first three send transactions."""
    from eth_account import Account

    extra = [Account.from_key(keccak(text=f"bench member {i}")) for i in range(max(0, size - 8))]
    return ([dev_account(i) for i in range(min(size, 8))] + extra)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=5, help="members in both communities (3..8, default 5)")
    parser.add_argument("--large", type=int, default=200, help="members of the growth run (default 200)")
    args = parser.parse_args()
    if not 3 <= args.members <= 8:
        parser.error("--members must be 3..8 (dev accounts 0..7 are members, 8 applies, 9 deploys)")
    members = community_of(args.members)
    applicant = dev_account(8)
    with start_anvil() as anvil:
        print(f"measuring on Anvil at {anvil.rpc_url} with {args.members} members …", file=sys.stderr)
        ours = measure_kiez(anvil, members, applicant)
        onboarding = measure_onboarding(anvil, members)
        oz_legacy = measure_openzeppelin(anvil, members, applicant, "ReferenceGovernor.json")
        oz_ir = measure_openzeppelin(anvil, members, applicant, "ReferenceGovernorViaIR.json")
        large = community_of(args.large)
        print(f"… and kiez with {args.large} members", file=sys.stderr)
        # Quorum 1 %, so that three votes pass it; the rule's figures do not change the cost.
        ours_large = measure_kiez(anvil, large, applicant, quorum_pct=1)
    # OpenZeppelin is built both with the legacy pipeline (its own default) and via IR (as kiez
    # is); each ratio is taken against the cheaper of the two, so no build choice flatters kiez.
    oz = {op: min(oz_legacy[op], oz_ir[op]) for op in ours}

    print(f"{'operation':<16}{'kiez':>10}{'OZ legacy':>12}{'OZ via-IR':>12}{'ratio':>8}")
    ratios: dict[str, float] = {}
    for op in ("propose", "castVote_first", "castVote_later", "castVoteBySig", "execute"):
        ratios[op] = ours[op] / oz[op]
        print(f"{op:<16}{ours[op]:>10,}{oz_legacy[op]:>12,}{oz_ir[op]:>12,}{ratios[op]:>8.3f}")
    for op, used in onboarding.items():
        print(f"{op:<20}{used:>6,}  (kiez only: relayed for an account with no ether)")
    growth = {op: round(ours_large[op] / ours[op], 3) for op in GROWTH_OPS}
    for op in GROWTH_OPS:
        print(f"{op:<16}{ours[op]:>10,} with {args.members}, {ours_large[op]:>10,} with {args.large}: x{growth[op]}")
    figures = {
        "members": args.members,
        "kiez": ours,
        "kiez_onboarding": onboarding,
        "openzeppelin": oz,
        "openzeppelin_legacy": oz_legacy,
        "openzeppelin_via_ir": oz_ir,
        "propose_ratio": round(ratios["propose"], 3),
        "castVote_ratio": round(max(ratios["castVote_first"], ratios["castVote_later"]), 3),
        "castVote_first_ratio": round(ratios["castVote_first"], 3),
        "castVote_later_ratio": round(ratios["castVote_later"], 3),
        "castVoteBySig_ratio": round(ratios["castVoteBySig"], 3),
        "execute_ratio": round(ratios["execute"], 3),
        "large_members": args.large,
        "kiez_large": ours_large,
        "gas_growth": growth,
        "gas_growth_ratio": max(growth.values()),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
