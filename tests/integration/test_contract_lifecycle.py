"""Every proposal kind through its whole life on a real Anvil chain: proposed (ACTIVE), voted on
(SUCCEEDED or DEFEATED, decided early where the outstanding votes cannot change the outcome),
executed (EXECUTED), with the events each step emits and the views that change. Also membership
outside proposals (join requests, leaving), app keys, rules changes applying only to proposals
created later, and one lifecycle driven through plain web3 to show that any JSON-RPC client works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from functools import cache
from typing import Any

import pytest
import requests
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from governance import errors
from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.artifacts import community_artifact
from governance.client import CommunityClient, TxResult
from governance.devchain import DevCommunity
from governance.events import (
    CharterChanged,
    Event,
    GuestPolicyChanged,
    JoinRequested,
    JoinRequestWithdrawn,
    KeyAdded,
    KeyRevoked,
    MediaPolicyChanged,
    MemberAdded,
    MemberLeft,
    MemberRemoved,
    ModeratorGranted,
    ModeratorRevoked,
    PostHidden,
    PostUnhidden,
    ProposalCreated,
    ProposalExecuted,
    RulesChanged,
    VoteCast,
)
from governance.types import (
    DEFAULT_MEDIA_POLICY,
    ZERO_ADDRESS,
    Address,
    GuestPolicy,
    MediaPolicy,
    ProposalKind,
    ProposalState,
    Rules,
    Support,
)
from tests.integration.plain_web3 import send

ACTIVE, SUCCEEDED, DEFEATED, EXECUTED = (
    ProposalState.ACTIVE,
    ProposalState.SUCCEEDED,
    ProposalState.DEFEATED,
    ProposalState.EXECUTED,
)
POST = keccak(text="a post about the bakery")
CHARTER = keccak(text="be kind; no ads")
INTRO = keccak(text="hi, I live at number 5")
KEY = keccak(text="ed25519 app key")


def payload(events: Sequence[Event]) -> list[tuple[Any, ...]]:
    """Events without their log position: (class, field values...)."""
    return [(type(e), *(getattr(e, f.name) for f in fields(e) if f.name != "log")) for e in events]


account = cache(dev_account)  # deriving a key from the mnemonic takes milliseconds


def who(client: CommunityClient) -> Address:
    """The account a client acts as (``client.address`` is the community's)."""
    assert client.account is not None
    return Address(client.account.address)


def account_subject(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


class Crew:
    """Clients for dev accounts 0..9 on one connection, made when first used (0, 1 and 2 are the
    founders, 9 deployed the contract and is not a member)."""

    def __init__(self, community: DevCommunity) -> None:
        session = requests.Session()
        session.trust_env = False  # no proxy lookup per request: the chain is local
        w3 = Web3(Web3.HTTPProvider(community.rpc_url, session=session, cache_allowed_requests=True))
        self._base = CommunityClient(w3, community.address)
        self._clients: dict[int, CommunityClient] = {}

    def __getitem__(self, index: int) -> CommunityClient:
        if index not in self._clients:
            self._clients[index] = self._base.with_account(account(index))
        return self._clients[index]

    def pick(self, *indexes: int) -> list[CommunityClient]:
        return [self[i] for i in indexes]


@pytest.fixture
def crew(community: DevCommunity) -> Crew:
    return Crew(community)


def check_created(created: ProposalCreated, kind: ProposalKind, subject: bytes, by: CommunityClient) -> None:
    assert created.kind is kind
    assert created.subject == subject
    assert created.proposer == who(by)
    assert created.number == by.proposal_count()
    # every member votes, except the subject of a removal
    assert created.eligible_voters == by.member_count() - (kind is ProposalKind.REMOVE_MEMBER)
    assert created.vote_end - created.vote_start == by.rules().voting_period
    assert by.state(created.proposal_id) is ACTIVE


def approve(voters: Sequence[CommunityClient], created: ProposalCreated, executor: CommunityClient) -> TxResult:
    """The first two voters vote for; with 3 eligible at 50 %/50 % the proposal is ACTIVE after
    one vote and SUCCEEDED (early) after two. ``executor`` (anyone) executes it; returns the
    execution's result, after checking the ProposalExecuted event and the EXECUTED state."""
    pid = created.proposal_id
    first = voters[0].cast_vote(pid, Support.FOR, reason="looks right")
    assert payload(first.events) == [(VoteCast, who(voters[0]), pid, Support.FOR, 1, "looks right")]
    assert voters[0].state(pid) is ACTIVE
    assert voters[0].has_voted(pid, who(voters[0]))
    assert not voters[0].has_voted(pid, who(voters[1]))
    voters[1].cast_vote(pid, Support.FOR)
    assert voters[1].state(pid) is SUCCEEDED
    result = executor.execute(created)
    assert payload(result.events)[0] == (ProposalExecuted, pid)
    assert executor.state(pid) is EXECUTED
    assert executor.proposal(created.number).state is EXECUTED
    return result


def test_add_member(crew: Crew) -> None:
    founder, applicant = crew[0], crew[5]
    with pytest.raises(errors.NoJoinRequest):
        founder.propose_add_member(who(applicant))
    requested = applicant.request_to_join(INTRO)
    assert payload(requested.events) == [(JoinRequested, who(applicant), INTRO)]
    created, _ = founder.propose_add_member(who(applicant), "our new neighbour")
    check_created(created, ProposalKind.ADD_MEMBER, account_subject(who(applicant)), founder)
    assert created.description == "our new neighbour"
    result = approve(crew.pick(0, 1), created, crew[9])
    assert payload(result.events)[1:] == [(MemberAdded, who(applicant), created.proposal_id, 3)]
    assert applicant.is_member(who(applicant))
    assert founder.member_count() == 4
    assert founder.join_request(who(applicant)) is None
    assert [m.address for m in founder.members()] == [who(c) for c in (*crew.pick(0, 1, 2), applicant)]


def test_remove_member_who_is_a_moderator(crew: Crew) -> None:
    target = who(crew[2])
    approve(crew.pick(0, 1), crew[0].propose_grant_moderator(target)[0], crew[0])
    created, _ = crew[0].propose_remove_member(target, "moved away")
    check_created(created, ProposalKind.REMOVE_MEMBER, account_subject(target), crew[0])
    result = approve(crew.pick(0, 1), created, crew[1])
    pid = created.proposal_id
    assert payload(result.events)[1:] == [(ModeratorRevoked, target, pid), (MemberRemoved, target, pid)]
    assert not crew[0].is_member(target)
    assert not crew[0].is_moderator(target)
    assert crew[0].member_count() == 2
    member = crew[0].member(target)
    assert (member.active, member.moderator, member.join_index) == (False, False, 2)


def test_hide_then_unhide_post(crew: Crew) -> None:
    created, _ = crew[1].propose_hide_post(POST, "advert")
    check_created(created, ProposalKind.HIDE_POST, POST, crew[1])
    result = approve(crew.pick(0, 1), created, crew[2])
    assert payload(result.events)[1:] == [(PostHidden, POST, ZERO_ADDRESS, created.proposal_id, "")]
    assert crew[0].is_hidden(POST)
    with pytest.raises(errors.PostAlreadyHidden):
        crew[0].propose_hide_post(POST)

    unhide, _ = crew[2].propose_unhide_post(POST, "it was fine")
    check_created(unhide, ProposalKind.UNHIDE_POST, POST, crew[2])
    result = approve(crew.pick(1, 2), unhide, crew[0])
    assert payload(result.events)[1:] == [(PostUnhidden, POST, unhide.proposal_id)]
    assert not crew[0].is_hidden(POST)
    with pytest.raises(errors.PostNotHidden):
        crew[0].propose_unhide_post(POST)


def test_defeated_proposal_changes_nothing(crew: Crew) -> None:
    created, _ = crew[0].propose_hide_post(POST)
    pid = created.proposal_id
    crew[1].cast_vote(pid, Support.AGAINST)
    assert crew[0].state(pid) is ACTIVE
    crew[2].cast_vote(pid, Support.AGAINST)  # 2 of 3 against: a third vote cannot save it
    assert crew[0].state(pid) is DEFEATED
    with pytest.raises(errors.NotExecutable) as refused:
        crew[0].execute(created)
    assert refused.value.state is DEFEATED
    assert not crew[0].is_hidden(POST)
    proposal = crew[0].proposal(created.number)
    assert (proposal.for_votes, proposal.against_votes, proposal.abstain_votes) == (0, 2, 0)


def test_set_charter(crew: Crew) -> None:
    assert crew[0].charter_hash() == bytes(32)
    created, _ = crew[0].propose_set_charter(CHARTER, "v1")
    check_created(created, ProposalKind.SET_CHARTER, CHARTER, crew[0])
    result = approve(crew.pick(1, 2), created, crew[0])
    assert payload(result.events)[1:] == [(CharterChanged, created.proposal_id, bytes(32), CHARTER)]
    assert crew[0].charter_hash() == CHARTER


def test_set_guest_policy(crew: Crew) -> None:
    assert crew[0].guest_policy() == GuestPolicy(0, 7 * 24 * 3600)  # the nodes' default
    policy = GuestPolicy(inviters=1, max_pass_seconds=2 * 24 * 3600)
    created, _ = crew[0].propose_set_guest_policy(policy, "moderators invite, two days at most")
    check_created(created, ProposalKind.SET_GUEST_POLICY, policy.pack(), crew[0])
    result = approve(crew.pick(1, 2), created, crew[0])
    assert payload(result.events)[1:] == [(GuestPolicyChanged, 1, 2 * 24 * 3600)]
    assert crew[0].guest_policy() == policy
    with pytest.raises(errors.InvalidArgument, match="at most 90 days"):
        crew[0].propose_set_guest_policy(GuestPolicy(0, 91 * 24 * 3600))


def test_grant_and_revoke_moderator(crew: Crew) -> None:
    target = who(crew[1])
    created, _ = crew[0].propose_grant_moderator(target)
    check_created(created, ProposalKind.GRANT_MODERATOR, account_subject(target), crew[0])
    result = approve(crew.pick(0, 1), created, crew[2])
    assert payload(result.events)[1:] == [(ModeratorGranted, target, created.proposal_id)]
    assert crew[0].is_moderator(target)
    with pytest.raises(errors.AlreadyModerator):
        crew[0].propose_grant_moderator(target)

    revoke, _ = crew[2].propose_revoke_moderator(target)
    check_created(revoke, ProposalKind.REVOKE_MODERATOR, account_subject(target), crew[2])
    result = approve(crew.pick(0, 1), revoke, crew[2])
    assert payload(result.events)[1:] == [(ModeratorRevoked, target, revoke.proposal_id)]
    assert not crew[0].is_moderator(target)
    with pytest.raises(errors.NotModerator):
        crew[0].propose_revoke_moderator(target)


def test_moderator_hide_overturned_by_vote(crew: Crew) -> None:
    moderator = crew[2]
    with pytest.raises(errors.NotModerator):
        moderator.moderator_hide(POST, "spam")
    approve(crew.pick(0, 1), crew[0].propose_grant_moderator(who(moderator))[0], crew[0])
    hidden = moderator.moderator_hide(POST, "spam")
    assert payload(hidden.events) == [(PostHidden, POST, who(moderator), 0, "spam")]
    assert crew[0].is_hidden(POST)
    with pytest.raises(errors.PostAlreadyHidden):
        moderator.moderator_hide(POST, "again")

    overturn, _ = crew[0].propose_unhide_post(POST, "not spam")
    result = approve(crew.pick(0, 1), overturn, crew[9])
    assert payload(result.events)[1:] == [(PostUnhidden, POST, overturn.proposal_id)]
    assert not crew[0].is_hidden(POST)
    assert crew[0].is_moderator(who(moderator))  # overturning a hide does not demote


def test_change_rules_applies_only_to_later_proposals(crew: Crew) -> None:
    new = Rules(quorum_pct=100, threshold_pct=67, voting_period=120)
    change, _ = crew[0].propose_change_rules(new, "everyone must vote")
    check_created(change, ProposalKind.CHANGE_RULES, new.pack(), crew[0])
    earlier, _ = crew[1].propose_set_charter(CHARTER)  # created under the old rules
    result = approve(crew.pick(0, 1), change, crew[0])
    assert payload(result.events)[1:] == [(RulesChanged, change.proposal_id, 50, 100, 50, 67, 60, 120)]
    assert crew[0].rules() == new
    assert crew[0].proposal(change.number).rules == new

    later, _ = crew[1].propose_set_charter(CHARTER)
    assert later.vote_end - later.vote_start == 120
    assert earlier.vote_end - earlier.vote_start == 60
    old_view, new_view = crew[0].proposal(earlier.number), crew[0].proposal(later.number)
    assert (old_view.quorum_pct, old_view.threshold_pct) == (50, 50)
    assert (new_view.quorum_pct, new_view.threshold_pct) == (100, 67)
    for voter in crew.pick(0, 1):
        voter.cast_vote(earlier.proposal_id, Support.FOR)
        voter.cast_vote(later.proposal_id, Support.FOR)
    assert crew[0].state(earlier.proposal_id) is SUCCEEDED  # 2 of 3 meet the old quorum of 50 %
    assert crew[0].state(later.proposal_id) is ACTIVE  # quorum 100 %: the third member must vote
    crew[2].cast_vote(later.proposal_id, Support.ABSTAIN)
    assert crew[0].state(later.proposal_id) is SUCCEEDED


def test_deployment_announces_the_rules_and_the_default_media_policy(crew: Crew) -> None:
    """A node builds its view from events alone, so the starting rules and media policy are
    events too (proposal 0), before the founders join."""
    founders = [who(c) for c in crew.pick(0, 1, 2)]
    assert payload(crew[0].events()) == [
        (RulesChanged, 0, 0, 50, 0, 50, 0, 60),
        (MediaPolicyChanged, 0, 0, 4, 0, 2048),
        *[(MemberAdded, founder, 0, index) for index, founder in enumerate(founders)],
    ]
    assert crew[0].media_policy() == DEFAULT_MEDIA_POLICY == MediaPolicy(4, 2048)


def test_set_media_policy(crew: Crew) -> None:
    smaller = MediaPolicy(max_attachments=2, max_attachment_kib=512)
    created, _ = crew[0].propose_set_media_policy(smaller, "phones on slow links")
    check_created(created, ProposalKind.SET_MEDIA_POLICY, smaller.pack(), crew[0])
    assert int.from_bytes(created.subject, "big") == (2 << 32) | 512
    assert crew[0].proposal(created.number).media_policy == smaller
    assert crew[0].media_policy() == DEFAULT_MEDIA_POLICY  # nothing changes before execution
    result = approve(crew.pick(1, 2), created, crew[9])
    assert payload(result.events)[1:] == [(MediaPolicyChanged, created.proposal_id, 4, 2, 2048, 512)]
    assert crew[0].media_policy() == smaller
    assert crew[0].rules() == Rules(50, 50, 60)  # the policy shares a storage slot with the rules

    # The edges of the range are valid: no attachments at all, then back to the ceiling.
    for policy in (MediaPolicy(0, 1), MediaPolicy(4, 2048)):
        step, _ = crew[1].propose_set_media_policy(policy)
        approve(crew.pick(0, 2), step, crew[1])
        assert crew[0].media_policy() == policy
    changes = [e for e in crew[0].events(kinds=[MediaPolicyChanged]) if isinstance(e, MediaPolicyChanged)]
    assert [(e.old_max_attachments, e.old_max_attachment_kib, e.policy) for e in changes] == [
        (0, 0, DEFAULT_MEDIA_POLICY),
        (4, 2048, smaller),
        (2, 512, MediaPolicy(0, 1)),
        (0, 1, MediaPolicy(4, 2048)),
    ]


def test_defeated_media_policy_changes_nothing(crew: Crew) -> None:
    created, _ = crew[0].propose_set_media_policy(MediaPolicy(0, 1), "no pictures")
    for voter in crew.pick(1, 2):
        voter.cast_vote(created.proposal_id, Support.AGAINST)
    assert crew[0].state(created.proposal_id) is DEFEATED
    with pytest.raises(errors.NotExecutable):
        crew[0].execute(created)
    assert crew[0].media_policy() == DEFAULT_MEDIA_POLICY


def test_join_request_and_withdrawal(crew: Crew) -> None:
    applicant = crew[6]
    with pytest.raises(errors.AlreadyMember):
        crew[0].request_to_join(INTRO)
    with pytest.raises(errors.NoJoinRequest):
        applicant.withdraw_join_request()
    applicant.request_to_join(INTRO)
    request = crew[0].join_request(who(applicant))
    assert request is not None
    assert (request.applicant, request.intro_hash) == (who(applicant), INTRO)
    assert request.requested_at == crew[0].chain_time()
    assert crew[0].join_requests() == [request]
    withdrawn = applicant.withdraw_join_request()
    assert payload(withdrawn.events) == [(JoinRequestWithdrawn, who(applicant))]
    assert crew[0].join_request(who(applicant)) is None
    assert crew[0].join_requests() == []
    with pytest.raises(errors.NoJoinRequest):
        crew[0].propose_add_member(who(applicant))


def test_add_member_whose_request_was_withdrawn_waits_for_a_new_request(crew: Crew) -> None:
    applicant = crew[6]
    applicant.request_to_join(INTRO)
    created, _ = crew[0].propose_add_member(who(applicant))
    for voter in crew.pick(0, 1):
        voter.cast_vote(created.proposal_id, Support.FOR)
    applicant.withdraw_join_request()
    with pytest.raises(errors.NoJoinRequest):
        crew[0].execute(created)
    assert crew[0].state(created.proposal_id) is SUCCEEDED
    applicant.request_to_join(INTRO)
    result = crew[0].execute(created)
    assert payload(result.events)[1] == (MemberAdded, who(applicant), created.proposal_id, 3)


def test_leave(crew: Crew) -> None:
    leaver = crew[2]
    approve(crew.pick(0, 1), crew[0].propose_grant_moderator(who(leaver))[0], crew[0])
    result = leaver.leave()
    assert payload(result.events) == [(ModeratorRevoked, who(leaver), 0), (MemberLeft, who(leaver))]
    assert not crew[0].is_member(who(leaver))
    assert not crew[0].is_moderator(who(leaver))
    assert crew[0].member_count() == 2
    assert [m.address for m in crew[0].members()] == [who(crew[0]), who(crew[1])]
    with pytest.raises(errors.NotAMember) as again:
        leaver.leave()
    assert str(again.value).startswith(f"you ({who(leaver)}) are not a member of community")


def test_app_keys(crew: Crew) -> None:
    owner, other, outsider = crew[0], crew[1], crew[7]
    added = owner.add_key(KEY)
    assert payload(added.events) == [(KeyAdded, who(owner), KEY)]
    info = owner.key_info(KEY)
    assert (info.owner, info.active, info.revoked_at, info.registered) == (who(owner), True, 0, True)
    assert info.added_at == owner.chain_time()
    assert owner.keys_of(who(owner)) == [info]
    with pytest.raises(errors.KeyAlreadyRegistered) as taken:
        other.add_key(KEY)
    assert taken.value.owner == who(owner)
    with pytest.raises(errors.InvalidKey):
        owner.add_key(bytes(32))
    with pytest.raises(errors.NotAMember):
        outsider.add_key(keccak(text="outsider key"))
    with pytest.raises(errors.NotKeyOwner) as not_owner:
        other.revoke_key(KEY)
    assert (not_owner.value.caller, not_owner.value.owner) == (who(other), who(owner))
    with pytest.raises(errors.UnknownKey):
        owner.revoke_key(keccak(text="never added"))
    assert owner.key_info(KEY) == info

    owner.leave()  # revocation needs no vote and works after leaving
    revoked = owner.revoke_key(KEY)
    assert payload(revoked.events) == [(KeyRevoked, who(owner), KEY)]
    after = owner.key_info(KEY)
    assert (after.owner, after.active, after.added_at) == (who(owner), False, info.added_at)
    assert after.revoked_at == owner.chain_time()
    with pytest.raises(errors.KeyAlreadyRevoked):
        owner.revoke_key(KEY)
    with pytest.raises(errors.KeyAlreadyRegistered):  # a revoked key never comes back
        other.add_key(KEY)


def test_revoked_key_cannot_be_registered_again_by_its_owner(crew: Crew) -> None:
    crew[1].add_key(KEY)
    crew[1].revoke_key(KEY)
    with pytest.raises(errors.KeyAlreadyRegistered):
        crew[1].add_key(KEY)
    assert not crew[1].key_info(KEY).active


# ---------------------------------------------------------------- plain web3, no kiez client


def test_lifecycle_through_plain_web3(anvil: Anvil, community: DevCommunity) -> None:
    w3 = anvil.web3()
    contract: Contract = w3.eth.contract(address=community.address, abi=community_artifact().abi)
    founders = community.founders
    call = bytes.fromhex(contract.encode_abi("setCharter", [CHARTER])[2:])
    targets, values, calldatas = [contract.address], [0], [call]
    receipt = send(w3, founders[0], contract.functions.propose(targets, values, calldatas, "plain"))
    (log,) = contract.events.ProposalCreated().process_receipt(receipt)
    pid = log["args"]["proposalId"]
    assert contract.functions.hashProposal(targets, values, calldatas, keccak(text="plain")).call() == pid
    (numbered,) = contract.events.ProposalNumbered().process_receipt(receipt)
    assert (numbered["args"]["number"], numbered["args"]["proposalId"]) == (1, pid)

    for voter in founders[:2]:
        vote = send(w3, voter, contract.functions.castVote(pid, 1))
        sent = w3.eth.get_transaction(vote["transactionHash"])
        assert bytes(sent["input"])[:4] == bytes.fromhex("56781388")  # IGovernor castVote(uint256,uint8)
        (cast_log,) = contract.events.VoteCast().process_receipt(vote)
        assert (cast_log["args"]["voter"], cast_log["args"]["support"]) == (voter.address, 1)
    assert contract.functions.proposalVotes(pid).call() == [0, 2, 0]
    assert ProposalState(contract.functions.state(pid).call()) is SUCCEEDED

    send(w3, account(9), contract.functions.execute(targets, values, calldatas, keccak(text="plain")))
    assert ProposalState(contract.functions.state(pid).call()) is EXECUTED
    assert bytes(contract.functions.charterHash().call()) == CHARTER
    # The kiez client reads what plain web3 wrote.
    client = community.client()
    assert [v.voter for v in client.votes(pid)] == [f.address for f in founders[:2]]
    assert client.proposal(1).state is EXECUTED
