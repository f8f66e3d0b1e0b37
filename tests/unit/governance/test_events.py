"""Raw logs → event records, built from the committed ABI (no chain needed)."""

from __future__ import annotations

import dataclasses
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from governance import decisions
from governance.abinames import snake_name
from governance.artifacts import community_artifact
from governance.events import (
    EventDecoder,
    GovernorProposalCreated,
    KeyRevoked,
    LogRef,
    MediaPolicyChanged,
    ProposalCreated,
    VoteCast,
    event_classes,
)
from governance.types import MediaPolicy, ProposalKind, Support

ABI = community_artifact().abi
ALICE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def make_log(name: str, block: int = 5, index: int = 0, **values: Any) -> dict[str, Any]:
    item = next(i for i in ABI if i.get("type") == "event" and i["name"] == name)
    signature = f"{name}({','.join(i['type'] for i in item['inputs'])})"
    topics = [keccak(text=signature)]
    topics += [encode([i["type"]], [values[i["name"]]]) for i in item["inputs"] if i["indexed"]]
    plain = [i for i in item["inputs"] if not i["indexed"]]
    data = encode([i["type"] for i in plain], [values[i["name"]] for i in plain])
    return {
        "topics": topics,
        "data": "0x" + data.hex(),
        "blockNumber": block,
        "logIndex": index,
        "blockHash": b"\x01" * 32,
        "transactionHash": b"\x02" * 32,
    }


def test_every_contract_event_has_a_record_with_the_same_fields() -> None:
    classes = event_classes()
    for item in (i for i in ABI if i.get("type") == "event"):
        assert item["name"] in classes, f"no record for the event {item['name']}"
        fields = [f.name for f in dataclasses.fields(classes[item["name"]]) if f.name != "log"]
        assert fields == [snake_name(i["name"]) for i in item["inputs"]], item["name"]


def test_decode_proposal_created_joins_the_two_events_of_one_transaction() -> None:
    call = decisions.calldata(ProposalKind.HIDE_POST, b"\xaa" * 32)
    created = make_log(
        "ProposalCreated",
        index=3,
        proposalId=2**255 + 7,
        proposer=ALICE.lower(),
        targets=[ALICE],
        values=[0],
        signatures=[""],
        calldatas=[call],
        voteStart=100,
        voteEnd=160,
        description="spam",
    )
    numbered = make_log("ProposalNumbered", index=4, number=3, proposalId=2**255 + 7, eligibleVoters=5)
    decoder = EventDecoder(ABI)
    raw = decoder.decode(created)
    assert isinstance(raw, GovernorProposalCreated)  # OpenZeppelin's layout, as emitted
    assert (raw.targets, raw.values, raw.calldatas, raw.vote_start) == ((ALICE,), (0,), (call,), 100)
    (event,) = decoder.decode_all([numbered, created])
    assert isinstance(event, ProposalCreated)
    assert event.proposal_id == 2**255 + 7
    assert event.number == 3
    assert event.proposer == ALICE
    assert event.kind is ProposalKind.HIDE_POST
    assert (event.subject, event.vote_end, event.eligible_voters, event.description) == (b"\xaa" * 32, 160, 5, "spam")
    assert event.calldata == call
    assert event.log == LogRef(5, 4, b"\x01" * 32, b"\x02" * 32)
    assert decoder.topics_of(ProposalCreated) == [decoder.topic_of(GovernorProposalCreated), numbered["topics"][0]]


def test_vote_cast_has_openzeppelins_layout() -> None:
    """No indexed proposal id: topic0 and the voter only, the id in the data."""
    log = make_log("VoteCast", voter=ALICE, proposalId=2**200, support=1, weight=1, reason="")
    assert len(log["topics"]) == 2
    assert log["topics"][0] == keccak(text="VoteCast(address,uint256,uint8,uint256,string)")
    event = EventDecoder(ABI).decode(log)
    assert isinstance(event, VoteCast)
    assert (event.proposal_id, event.support, event.weight, event.reason) == (2**200, Support.FOR, 1, "")


def test_decode_media_policy_changed() -> None:
    log = make_log(
        "MediaPolicyChanged",
        proposalId=12,
        oldMaxAttachments=4,
        newMaxAttachments=1,
        oldMaxAttachmentKiB=2048,
        newMaxAttachmentKiB=256,
    )
    event = EventDecoder(ABI).decode(log)
    assert isinstance(event, MediaPolicyChanged)
    assert (event.proposal_id, event.old_max_attachments, event.old_max_attachment_kib) == (12, 4, 2048)
    assert event.policy == MediaPolicy(max_attachments=1, max_attachment_kib=256)
    topic = keccak(text="MediaPolicyChanged(uint256,uint8,uint8,uint32,uint32)")
    assert EventDecoder(ABI).topic_of(MediaPolicyChanged) == topic


def test_decode_all_sorts_by_chain_order_and_skips_foreign_logs() -> None:
    vote = make_log("VoteCast", block=9, index=1, voter=ALICE, proposalId=1, support=2, weight=1, reason="meh")
    revoke = make_log("KeyRevoked", block=9, index=0, owner=ALICE, key=b"\x05" * 32)
    foreign = {**revoke, "topics": [keccak(text="Transfer(address,address,uint256)")]}
    events = EventDecoder(ABI).decode_all([vote, foreign, revoke])
    assert [type(e) for e in events] == [KeyRevoked, VoteCast]
    assert isinstance(events[1], VoteCast)
    assert events[1].support is Support.ABSTAIN
    assert events[1].reason == "meh"


def test_topic_of_matches_the_event_signature() -> None:
    decoder = EventDecoder(ABI)
    assert decoder.topic_of(KeyRevoked) == keccak(text="KeyRevoked(address,bytes32)")
    # every event the contract declares
    assert len(decoder.topics) == sum(1 for item in ABI if item.get("type") == "event")
