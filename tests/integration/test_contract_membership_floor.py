"""A community cannot brick itself, on a real Anvil chain.

Before these rules, the last member could leave (or be voted out) and leave a contract in which
nothing could ever be proposed again while join requests still cost gas; and in a community of two,
one member removed the other alone whenever the other did not vote in time. Now: the last member
cannot leave; a removal is decided by the other members only (its subject does not vote and is not
counted), needs two of their for votes, and so needs a community of at least three, when proposed
and when executed; a join request is refused once no admission could ever pass.
"""

from __future__ import annotations

from functools import cache

import pytest
from eth_utils.crypto import keccak

from governance import errors
from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.client import CommunityClient
from governance.devchain import DEVNET_RULES, deploy_dev_community
from governance.events import MemberLeft, MemberRemoved, ProposalExecuted
from governance.types import MIN_REMOVAL_VOTES, Address, ProposalState, Rules, Support

FOR, AGAINST, ABSTAIN = Support.FOR, Support.AGAINST, Support.ABSTAIN
INTRO = keccak(text="hello, I moved in upstairs")
APPLICANT = 5
RELAYER = 9  # the deployer: never a member
#: Slot of the contract's Config (after the name's), as solc lays it out: proposalCount in bits
#: 0..63, memberCount in 64..87, nextJoinIndex in 88..111.
#: The Config slot: after OpenZeppelin EIP712's two fallback strings (slots 0 and 1).
CONFIG_SLOT = 2
MAX_UINT24 = 2**24 - 1

account = cache(dev_account)  # deriving a key from the mnemonic takes milliseconds


def founded(anvil: Anvil, founders: int, rules: Rules = DEVNET_RULES) -> list[CommunityClient]:
    """Clients for dev accounts 0..9 of a new community founded by accounts 0..founders-1."""
    community = deploy_dev_community(anvil, founders=founders, rules=rules)
    return [community.client(account(i)) for i in range(10)]


def who(client: CommunityClient) -> Address:
    assert client.account is not None
    return Address(client.account.address)


def admit(sponsor: CommunityClient, applicant: CommunityClient) -> None:
    """``sponsor``, the only member, admits ``applicant``: one member's vote decides."""
    applicant.request_to_join(INTRO)
    created, _ = sponsor.propose_add_member(who(applicant))
    sponsor.cast_vote(created.proposal_id, FOR)
    assert sponsor.state(created.proposal_id) is ProposalState.SUCCEEDED
    sponsor.execute(created)


def test_the_last_member_cannot_leave_and_can_still_admit(anvil: Anvil) -> None:
    crew = founded(anvil, founders=2)
    assert [type(e) for e in crew[1].leave().events] == [MemberLeft]
    with pytest.raises(errors.LastMember) as refused:
        crew[0].leave()
    assert refused.value.account == who(crew[0])
    assert str(refused.value).startswith(f"you ({who(crew[0])}) are the last member of community")
    assert "admit someone first" in str(refused.value)
    assert crew[0].is_member(who(crew[0]))
    assert crew[0].member_count() == 1
    # nothing is bricked: the last member admits a newcomer alone, and may leave after that
    admit(crew[0], crew[APPLICANT])
    crew[0].leave()
    assert crew[0].members()[0].address == who(crew[APPLICANT])
    with pytest.raises(errors.LastMember):
        crew[APPLICANT].leave()


@pytest.mark.parametrize("founders", [1, 2])
def test_too_small_a_community_cannot_propose_a_removal(anvil: Anvil, founders: int) -> None:
    """The issue's case (founders=2): one member could remove the other alone if the other did
    not vote in time. Neither the other nor oneself can be put to a removal vote now."""
    crew = founded(anvil, founders=founders)
    for subject in crew[:founders]:
        with pytest.raises(errors.TooFewMembersToRemove) as refused:
            crew[0].propose_remove_member(who(subject))
        err = refused.value
        assert (err.account, err.member_count, err.min_members) == (who(subject), founders, MIN_REMOVAL_VOTES + 1)
        assert f"has {founders} member" in str(err)
        assert "needs at least 3 (the member and two others who decide it)" in str(err)
    assert crew[0].proposal_count() == 0
    assert crew[0].member_count() == founders


def test_the_subject_does_not_vote_on_their_own_removal(anvil: Anvil) -> None:
    crew = founded(anvil, founders=3)
    subject = crew[2]
    created, _ = crew[0].propose_remove_member(who(subject))
    pid = created.proposal_id
    assert created.eligible_voters == 2  # the subject is not counted
    assert crew[0].proposal(created.number).quorum_votes == 1
    assert not crew[0].can_vote(pid, who(subject))
    assert crew[0].can_vote(pid, who(crew[1]))
    for support in (AGAINST, FOR, ABSTAIN):
        with pytest.raises(errors.VoteOnOwnRemoval) as refused:
            subject.cast_vote(pid, support)
        assert (refused.value.number, refused.value.voter) == (created.number, who(subject))
        assert str(refused.value) == f"proposal 1 is to remove you ({who(subject)}): the other members decide it"
    with pytest.raises(errors.VoteOnOwnRemoval):
        crew[RELAYER].relay_ballot(subject.sign_ballot(pid, AGAINST))
    assert not crew[0].has_voted(pid, who(subject))
    assert crew[0].nonce(who(subject)) == 0  # the refused ballot consumed nothing
    proposal = crew[0].proposal(created.number)
    assert (proposal.for_votes, proposal.against_votes, proposal.abstain_votes) == (0, 0, 0)
    # the two others decide it
    crew[0].cast_vote(pid, FOR)
    assert crew[0].state(pid) is ProposalState.ACTIVE
    crew[1].cast_vote(pid, FOR)
    assert crew[0].state(pid) is ProposalState.SUCCEEDED
    result = crew[RELAYER].execute(created)
    assert [type(e) for e in result.events] == [ProposalExecuted, MemberRemoved]
    assert crew[0].member_count() == 2


def test_one_member_alone_cannot_remove_another(anvil: Anvil) -> None:
    """A quorum of 1 % is met by one vote, but a removal needs two for votes: one member's vote,
    while the third does not vote, is defeated at the deadline instead of removing the subject."""
    rules = Rules(quorum_pct=1, threshold_pct=50, voting_period=60)
    crew = founded(anvil, founders=3, rules=rules)
    created, _ = crew[0].propose_remove_member(who(crew[2]))
    crew[0].cast_vote(created.proposal_id, FOR)
    assert crew[0].state(created.proposal_id) is ProposalState.ACTIVE  # member 1 may still vote for
    anvil.advance_time(rules.voting_period + 1)
    assert crew[0].state(created.proposal_id) is ProposalState.DEFEATED
    with pytest.raises(errors.NotExecutable) as refused:
        crew[0].execute(created)
    assert refused.value.state is ProposalState.DEFEATED
    assert crew[0].is_member(who(crew[2]))


def test_a_removal_short_of_two_for_votes_is_decided_at_once(anvil: Anvil) -> None:
    """Once the for votes still possible cannot reach two, the removal is defeated early (its
    subject's vote never counts), so the electorate is not kept waiting for the deadline."""
    crew = founded(anvil, founders=3)
    created, _ = crew[0].propose_remove_member(who(crew[2]))
    crew[1].cast_vote(created.proposal_id, ABSTAIN)
    assert crew[0].state(created.proposal_id) is ProposalState.DEFEATED
    with pytest.raises(errors.VotingClosed):
        crew[0].cast_vote(created.proposal_id, FOR)


def test_removals_passed_together_stop_at_two_members(anvil: Anvil) -> None:
    """Two removals that both passed while there were three members: executing the first leaves
    two, and the second is refused, since a vote never shrinks the community below two (else
    three crossed removals could empty it)."""
    crew = founded(anvil, founders=3)
    first, _ = crew[0].propose_remove_member(who(crew[2]))
    second, _ = crew[0].propose_remove_member(who(crew[1]))
    for voter in (crew[0], crew[1]):
        voter.cast_vote(first.proposal_id, FOR)
    for voter in (crew[0], crew[2]):
        voter.cast_vote(second.proposal_id, FOR)
    assert crew[0].state(second.proposal_id) is ProposalState.SUCCEEDED
    crew[0].execute(first)
    with pytest.raises(errors.TooFewMembersToRemove) as refused:
        crew[0].execute(second)
    assert (refused.value.account, refused.value.member_count) == (who(crew[1]), 2)
    assert crew[0].is_member(who(crew[1]))
    assert crew[0].state(second.proposal_id) is ProposalState.SUCCEEDED  # not executed
    assert crew[0].member_count() == 2


def poke_config(anvil: Anvil, client: CommunityClient, *, proposal_count: int, next_join_index: int) -> None:
    """Sets the contract's counters directly: reaching 2**24 - 1 proposals or admissions by
    transactions would take millions of them. Checks the slot's layout against the views first."""
    w3 = client.w3
    word = int.from_bytes(w3.eth.get_storage_at(client.address, CONFIG_SLOT), "big")
    assert word & MAX_UINT24 == client.proposal_count()
    assert (word >> 24) & MAX_UINT24 == client.member_count()
    word &= ~(MAX_UINT24 | (MAX_UINT24 << 48))
    word |= proposal_count | (next_join_index << 48)
    anvil.rpc("anvil_setStorageAt", [client.address, hex(CONFIG_SLOT), "0x" + word.to_bytes(32, "big").hex()])
    assert client.proposal_count() == proposal_count


def test_join_request_refused_when_no_admission_could_pass(anvil: Anvil) -> None:
    crew = founded(anvil, founders=1)
    applicant = crew[APPLICANT]
    poke_config(anvil, crew[0], proposal_count=0, next_join_index=MAX_UINT24)
    with pytest.raises(errors.MemberLimitReached) as members_full:
        applicant.request_to_join(INTRO)
    assert members_full.value.limit == MAX_UINT24
    poke_config(anvil, crew[0], proposal_count=MAX_UINT24, next_join_index=1)
    with pytest.raises(errors.ProposalLimitReached) as proposals_full:
        applicant.request_to_join(INTRO)
    assert proposals_full.value.limit == MAX_UINT24
    assert applicant.join_request(who(applicant)) is None  # nobody paid for a hopeless request
    poke_config(anvil, crew[0], proposal_count=MAX_UINT24 - 1, next_join_index=1)
    applicant.request_to_join(INTRO)  # one proposal left: the request can still be granted
    assert applicant.join_request(who(applicant)) is not None
