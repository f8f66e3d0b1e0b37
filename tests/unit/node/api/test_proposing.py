"""A proposal request becomes the contract call of its kind, a missing field is named, and a
charter's text is found only where its hash is the chain's."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from governance.calls import SELF
from governance.types import ProposalKind
from node.api.govjson import charter_json
from node.api.problems import HttpError
from node.api.proposing import (
    KINDS,
    ProposalRequest,
    charter_description,
    charter_hash,
    charter_posts,
    proposal_call,
)
from node.core.types import AppKey, MessageId
from node.store.feed import FeedItem

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
POST = bytes(range(32))
TEXT = "Be kind. Stay on topic."


def request(**fields: object) -> ProposalRequest:
    return ProposalRequest.model_validate(fields)


def encoded(signature: str, args: list[object]) -> bytes:
    types = signature[signature.index("(") + 1 : -1].split(",")
    return keccak(text=signature)[:4] + abi_encode(types, args)


def item(text: str) -> FeedItem:
    return FeedItem(MessageId(POST), ALICE, AppKey(bytes(32)), 1, "", text, None)


def test_every_kind_the_contract_knows_can_be_requested() -> None:
    assert set(KINDS.values()) == set(ProposalKind)


@pytest.mark.parametrize(
    ("fields", "decision", "args", "description"),
    [
        ({"kind": "add_member", "target": ALICE.lower()}, "addMember(address)", [ALICE], ""),
        ({"kind": "hide_post", "target": POST.hex(), "description": "spam"}, "hidePost(bytes32)", [POST], "spam"),
        (
            {"kind": "change_rules", "quorum_pct": 40, "threshold_pct": 60, "voting_period_s": 3600},
            "changeRules(uint8,uint8,uint32)",
            [40, 60, 3600],
            "",
        ),
        (
            {"kind": "set_media_policy", "max_attachments": 0, "max_attachment_kib": 1},
            "setMediaPolicy(uint8,uint32)",
            [0, 1],
            "",
        ),
        (
            {"kind": "set_guest_policy", "guest_inviters": 1, "max_guest_pass_s": 604800},
            "setGuestPolicy(uint8,uint32)",
            [1, 604800],
            "",
        ),
    ],
)
def test_a_request_becomes_its_kind_s_call(
    fields: dict[str, object], decision: str, args: list[object], description: str
) -> None:
    # IGovernor's propose of one call of the community's decision function, encoded here from
    # the function's signature rather than by the code under test.
    call = proposal_call(request(**fields))
    assert (call.function, call.args) == ("propose", ([SELF], [0], [encoded(decision, args)], description))


def test_a_charter_proposal_puts_the_text_s_hash_on_chain_and_cites_its_post() -> None:
    call = proposal_call(request(kind="set_charter", text=TEXT, description="first"), POST)
    assert call.function == "propose"
    assert call.args[2] == [encoded("setCharter(bytes32)", [charter_hash(TEXT)])]
    assert charter_posts(call.args[3]) == [POST]
    assert call.args[3].startswith("first\n\n")
    assert charter_posts(charter_description("", POST)) == [POST]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": "change_rules", "quorum_pct": 40}, "change_rules needs threshold_pct, voting_period_s"),
        ({"kind": "set_media_policy"}, "set_media_policy needs max_attachments, max_attachment_kib"),
        ({"kind": "set_guest_policy", "guest_inviters": 0}, "set_guest_policy needs max_guest_pass_s"),
        ({"kind": "set_charter", "text": "  "}, "set_charter needs text"),
        ({"kind": "grant_moderator", "target": "alice"}, "target must be an address"),
    ],
)
def test_a_missing_or_wrong_field_is_named(fields: dict[str, object], words: str) -> None:
    with pytest.raises(HttpError) as refused:
        proposal_call(request(**fields), POST)
    assert words in str(refused.value)


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"set_charter"}))
def test_every_kind_has_its_own_call(kind: str) -> None:
    # An empty request is refused for what *its* kind needs, never taken for another kind.
    with pytest.raises(HttpError) as refused:
        proposal_call(request(kind=kind), POST)
    assert "set_charter" not in str(refused.value)


def test_the_charter_is_shown_only_when_its_text_hashes_to_the_chain_s() -> None:
    right, wrong = item(TEXT), item(TEXT + " (edited)")
    shown = charter_json(charter_hash(TEXT), [POST], lambda _: right)
    assert (shown["text"], shown["matches"]) == (TEXT, True)
    tampered = charter_json(charter_hash(TEXT), [POST], lambda _: wrong)
    assert (tampered["text"], tampered["matches"]) == (None, False)
    assert "does not hash" in tampered["note"]
    assert "does not hold" in charter_json(charter_hash(TEXT), [POST], lambda _: None)["note"]
    assert "cites no post" in charter_json(charter_hash(TEXT), [], lambda _: None)["note"]
    assert charter_json(bytes(32), [], lambda _: None)["set"] is False
