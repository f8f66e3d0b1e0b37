"""The chain adapter: the contract's raw logs, decoded by governance, become the core's facts."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from governance import decisions
from governance.artifacts import community_artifact
from governance.events import Event, EventDecoder
from governance.types import ProposalKind
from node.chain.facts import fact_of, position_of
from node.core import facts
from node.core.facts import LogPosition

ABI = community_artifact().abi
ALICE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
KEY = b"\x11" * 32
POST = b"\x22" * 32


def _log(name: str, block: int = 5, index: int = 0, **values: Any) -> dict[str, Any]:
    """A log as eth_getLogs returns it, encoded from the committed ABI."""
    item = next(i for i in ABI if i.get("type") == "event" and i["name"] == name)
    topics = [keccak(text=f"{name}({','.join(i['type'] for i in item['inputs'])})")]
    topics += [encode([i["type"]], [values[i["name"]]]) for i in item["inputs"] if i["indexed"]]
    plain = [i for i in item["inputs"] if not i["indexed"]]
    return {
        "topics": topics,
        "data": "0x" + encode([i["type"] for i in plain], [values[i["name"]] for i in plain]).hex(),
        "blockNumber": block,
        "logIndex": index,
        "blockHash": b"\x01" * 32,
        "transactionHash": b"\x02" * 32,
    }


def _decode(log: dict[str, Any]) -> Event:
    event = EventDecoder(ABI).decode(log)
    assert event is not None
    return event


@pytest.mark.parametrize(
    ("log", "fact"),
    [
        (_log("MemberAdded", member=ALICE, proposalId=1, joinIndex=3), facts.MemberJoined(ALICE)),
        (_log("MemberRemoved", member=ALICE, proposalId=2), facts.MemberGone(ALICE)),
        (_log("MemberLeft", member=ALICE), facts.MemberGone(ALICE)),
        (_log("KeyAdded", owner=ALICE, key=KEY), facts.KeyAuthorised(ALICE, KEY)),
        (_log("KeyRevoked", owner=ALICE, key=KEY), facts.KeyRevoked(KEY)),
        (
            _log("PostHidden", postId=POST, moderator=ALICE, proposalId=4, reason="spam"),
            facts.PostHidden(POST),
        ),
        (_log("PostUnhidden", postId=POST, proposalId=5), facts.PostUnhidden(POST)),
        (
            _log("GuestPolicyChanged", inviters=1, maxPassSeconds=86400),
            facts.GuestPolicyChanged("moderators", 86400),
        ),
        (
            _log(
                "MediaPolicyChanged",
                proposalId=6,
                oldMaxAttachments=4,
                newMaxAttachments=1,
                oldMaxAttachmentKiB=2048,
                newMaxAttachmentKiB=256,
            ),
            facts.MediaPolicyChanged(1, 256 * 1024),  # the core counts bytes, the contract KiB
        ),
    ],
)
def test_the_decisions_the_core_needs_become_facts(log: dict[str, Any], fact: facts.Fact) -> None:
    assert fact_of(_decode(log)) == fact


def test_proposals_and_votes_become_facts_for_the_members_notices() -> None:
    subject = b"\x00" * 12 + bytes.fromhex(ALICE[2:])
    created = _log(
        "ProposalCreated",
        index=0,
        proposalId=7,
        proposer=ALICE,
        targets=[ALICE],
        values=[0],
        signatures=[""],
        calldatas=[decisions.calldata(ProposalKind.ADD_MEMBER, subject)],
        voteStart=100,
        voteEnd=200,
        description="let alice in",
    )
    numbered = _log("ProposalNumbered", index=1, number=2, proposalId=7, eligibleVoters=3)
    assert fact_of(_decode(created)) is None  # alone, OpenZeppelin's event says too little
    (joined,) = EventDecoder(ABI).decode_all([created, numbered])
    assert fact_of(joined) == facts.ProposalOpened(7, 2, "add-member", subject, ALICE, 200, "let alice in")
    vote = _log("VoteCast", voter=ALICE, proposalId=7, support=1, weight=1, reason="")
    assert fact_of(_decode(vote)) == facts.VoteRecorded(7, ALICE)
    assert fact_of(_decode(_log("ProposalExecuted", proposalId=7))) == facts.ProposalExecuted(7)


def test_events_the_core_does_not_need_translate_to_nothing() -> None:
    request = _log("JoinRequested", applicant=ALICE, introHash=b"\x33" * 32)
    assert fact_of(_decode(request)) is None


def test_the_position_names_the_log() -> None:
    event = _decode(_log("MemberLeft", block=9, index=4, member=ALICE))
    assert position_of(event) == LogPosition(9, 4, b"\x01" * 32)
