"""What the contract must refuse, on a real Anvil chain: each attempt raises the exact typed error
(named after the contract's custom error) and leaves the proposal, the nonces and the membership
as they were. Client-side checks are bypassed with the ``*_raw`` calls (or plain web3) wherever
the point is the contract's own check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache
from typing import Any, cast

import pytest
import requests
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import RPCEndpoint

from governance import decisions, errors
from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.artifacts import community_artifact
from governance.ballot import malleate, sign_ballot
from governance.client import CommunityClient, TxResult, deploy_community
from governance.devchain import DevCommunity, deploy_dev_community
from governance.events import VoteCast
from governance.governor_errors import GovernorNonexistentProposal
from governance.humanize import format_time
from governance.reverts import RevertDecoder
from governance.types import (
    DEFAULT_MEDIA_POLICY,
    ZERO_ADDRESS,
    Address,
    MediaPolicy,
    ProposalId,
    ProposalKind,
    ProposalState,
    Rules,
    Support,
)

FOR, AGAINST, ABSTAIN = Support.FOR, Support.AGAINST, Support.ABSTAIN
CHARTER = keccak(text="charter v1")
POST = keccak(text="some post")
INTRO = keccak(text="let me in")
OUTSIDER = 8  # a funded dev account that is never a member
RELAYER = 9  # the deployer: not a member, relays other people's ballots


account = cache(dev_account)  # deriving a key from the mnemonic takes milliseconds


def who(client: CommunityClient) -> Address:
    """The account a client acts as (``client.address`` is the community's)."""
    assert client.account is not None
    return Address(client.account.address)


class Crew:
    """Clients for dev accounts 0..9 on one connection, made when first used."""

    WATCHED = (0, 1, 2, 5, OUTSIDER)

    def __init__(self, community: DevCommunity) -> None:
        self.community = community
        session = requests.Session()
        session.trust_env = False  # no proxy lookup per request: the chain is local
        self.provider = Web3.HTTPProvider(community.rpc_url, session=session, cache_allowed_requests=True)
        self._base = CommunityClient(Web3(self.provider), community.address)
        self._clients: dict[int, CommunityClient] = {}
        self.watched = [account(i).address for i in self.WATCHED]

    def __getitem__(self, index: int) -> CommunityClient:
        if index not in self._clients:
            self._clients[index] = self._base.with_account(account(index))
        return self._clients[index]


@pytest.fixture
def crew(community: DevCommunity) -> Crew:
    return Crew(community)


@pytest.fixture
def pid(crew: Crew) -> ProposalId:
    """Proposal 1: founder 0 proposes a charter; 3 eligible, quorum 50 %, threshold 50 %, 60 s."""
    created, _ = crew[0].propose_set_charter(CHARTER)
    return created.proposal_id


def calldata(signature: str, *args: Any) -> str:
    """ABI-encoded call data of ``signature`` (e.g. ``nonces(address)``) with ``args``."""
    types = signature[signature.index("(") + 1 : -1]
    return "0x" + (keccak(text=signature)[:4] + abi_encode([t for t in types.split(",") if t], args)).hex()


def fingerprint(crew: Crew, pid: ProposalId) -> list[str]:
    """Proposal ``pid`` (state and tallies), membership, and the watched accounts' nonces and votes,
    as raw eth_call results fetched in one JSON-RPC batch."""
    calls = [calldata("getProposal(uint256)", pid), calldata("memberCount()"), calldata("proposalCount()")]
    calls += [calldata("nonces(address)", a) for a in crew.watched]
    calls += [calldata("hasVoted(uint256,address)", pid, a) for a in crew.watched]
    batch = [(RPCEndpoint("eth_call"), [{"to": crew.community.address, "data": c}, "latest"]) for c in calls]
    responses = crew.provider.make_batch_request(batch)
    assert isinstance(responses, list)
    return [str(r["result"]) for r in responses]


@contextmanager
def unchanged(crew: Crew, pid: ProposalId) -> Iterator[None]:
    """Asserts that the block leaves proposal ``pid``, nonces, votes and membership as they were."""
    before = fingerprint(crew, pid)
    yield
    assert fingerprint(crew, pid) == before


def vote(crew: Crew, voter: int, pid: ProposalId, how: str, support: Support) -> TxResult:
    """``voter`` votes directly, or signs a ballot that the relayer submits."""
    if how == "direct":
        return crew[voter].cast_vote(pid, support)
    return crew[RELAYER].relay_ballot(crew[voter].sign_ballot(pid, support))


def raw_call(client: CommunityClient, function: str, *args: Any) -> None:
    """Calls the contract with plain web3 as ``client``'s account, bypassing every client-side
    check; a revert is raised as the typed error it encodes."""
    abi = community_artifact().abi
    contract = client.w3.eth.contract(address=client.address, abi=abi)
    try:
        getattr(contract.functions, function)(*args).call({"from": who(client)})
    except ContractLogicError as exc:
        raise RevertDecoder(abi).decode(bytes.fromhex(str(exc.data)[2:])) from None


def raw_propose(client: CommunityClient, decision: str, *args: Any) -> None:
    """Proposes one call of the decision function ``decision`` with plain web3 (no client checks)."""
    contract = client.w3.eth.contract(address=client.address, abi=community_artifact().abi)
    data = bytes.fromhex(contract.encode_abi(decision, list(args))[2:])
    raw_call(client, "propose", [client.address], [0], [data], "")


def test_non_member_cannot_propose(crew: Crew) -> None:
    outsider = crew[OUTSIDER]
    with pytest.raises(errors.NotAMember) as refused:
        outsider.propose_set_charter(CHARTER)
    assert refused.value.account == who(outsider)
    assert f"you ({who(outsider)}) are not a member of community {crew.community.address}" == str(refused.value)
    assert crew[0].proposal_count() == 0


def test_non_member_cannot_vote_directly_or_by_signature(crew: Crew, pid: ProposalId) -> None:
    outsider = crew[OUTSIDER]
    with unchanged(crew, pid), pytest.raises(errors.NotAMember) as refused:
        outsider.cast_vote(pid, FOR)
    assert refused.value.account == who(outsider)
    with unchanged(crew, pid), pytest.raises(errors.NotAMember):
        crew[RELAYER].relay_ballot(outsider.sign_ballot(pid, FOR))


@pytest.mark.parametrize("first", ["direct", "signed"])
@pytest.mark.parametrize("second", ["direct", "signed"])
def test_double_vote(crew: Crew, pid: ProposalId, first: str, second: str) -> None:
    cast_vote = vote(crew, 1, pid, first, FOR)
    assert [(type(e), e.voter) for e in cast_vote.events if isinstance(e, VoteCast)] == [(VoteCast, who(crew[1]))]
    with unchanged(crew, pid), pytest.raises(errors.AlreadyVoted) as refused:
        vote(crew, 1, pid, second, AGAINST)
    assert (refused.value.number, refused.value.voter) == (1, who(crew[1]))
    assert "already voted on proposal 1" in str(refused.value)
    assert who(crew[1]) in str(refused.value)


def test_replaying_the_same_signed_ballot(crew: Crew, pid: ProposalId) -> None:
    ballot = crew[1].sign_ballot(pid, FOR)
    crew[RELAYER].relay_ballot(ballot)
    assert crew[0].nonce(who(crew[1])) == 1
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature) as refused:
        crew[2].relay_ballot(ballot)  # its nonce is used up
    assert refused.value.signer == who(crew[1])


def test_ballot_for_one_proposal_relayed_for_another(crew: Crew, pid: ProposalId) -> None:
    other, _ = crew[0].propose_hide_post(POST)
    ballot = crew[1].sign_ballot(pid, FOR)
    with unchanged(crew, other.proposal_id), pytest.raises(errors.InvalidSignature):
        crew[RELAYER].cast_vote_by_sig_raw(other.proposal_id, FOR, ballot.voter, ballot.signature)
    crew[RELAYER].relay_ballot(ballot)  # still good where it belongs
    assert crew[0].has_voted(pid, who(crew[1]))


def test_ballot_signed_for_another_chain(crew: Crew, pid: ProposalId) -> None:
    domain = replace(crew[1].ballot_domain(), chain_id=1)
    ballot = sign_ballot(account(1), domain, pid, FOR, crew[0].nonce(who(crew[1])))
    with unchanged(crew, pid), pytest.raises(errors.BallotError) as local:
        crew[RELAYER].relay_ballot(ballot)
    assert f"the ballot is for chain 1, but this chain is {crew[0].chain_id}" == str(local.value)
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature):
        crew[RELAYER].cast_vote_by_sig_raw(pid, FOR, ballot.voter, ballot.signature)


def test_ballot_for_one_community_relayed_to_another(anvil: Anvil, crew: Crew, pid: ProposalId) -> None:
    twin = Crew(deploy_dev_community(anvil, founders=3))  # same name, founders and rules
    twin_created, _ = twin[0].propose_set_charter(CHARTER)
    twin_pid = twin_created.proposal_id
    assert twin_pid != pid  # the same decision, but the id commits to the community it calls
    # A ballot signed in the first community's domain for the twin's proposal id:
    ballot = sign_ballot(account(1), crew[0].ballot_domain(), twin_pid, FOR, crew[0].nonce(who(crew[1])))
    with unchanged(twin, twin_pid), pytest.raises(errors.BallotError) as local:
        twin[RELAYER].relay_ballot(ballot)
    assert str(local.value) == f"the ballot is for community {crew.community.address}, not {twin.community.address}"
    with unchanged(twin, twin_pid), pytest.raises(errors.InvalidSignature):
        twin[RELAYER].cast_vote_by_sig_raw(twin_pid, FOR, ballot.voter, ballot.signature)


def test_high_s_signature_is_malleable(crew: Crew, pid: ProposalId) -> None:
    ballot = crew[1].sign_ballot(pid, FOR)
    high = malleate(ballot.signature)
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature) as refused:  # OpenZeppelin's ECDSA
        crew[RELAYER].cast_vote_by_sig_raw(pid, FOR, ballot.voter, high)
    assert refused.value.signer == ballot.voter
    crew[RELAYER].relay_ballot(ballot)  # the refusal consumed nothing: the low-s form still counts
    assert crew[0].has_voted(pid, who(crew[1]))


@pytest.mark.parametrize("length", [0, 64, 66, 130])
def test_signature_of_wrong_length(crew: Crew, pid: ProposalId, length: int) -> None:
    signature = (crew[1].sign_ballot(pid, FOR).signature * 2)[:length]
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature) as refused:
        crew[RELAYER].cast_vote_by_sig_raw(pid, FOR, who(crew[1]), signature)
    assert refused.value.signer == who(crew[1])


def test_forged_and_broken_signatures(crew: Crew, pid: ProposalId) -> None:
    forged = sign_ballot(account(2), crew[0].ballot_domain(), pid, FOR, 0)  # account 2 signs
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature) as refused:
        crew[RELAYER].cast_vote_by_sig_raw(pid, FOR, who(crew[1]), forged.signature)
    assert refused.value.signer == who(crew[1])
    with unchanged(crew, pid), pytest.raises(errors.BallotError, match="signature is not"):
        crew[RELAYER].relay_ballot(replace(forged, voter=who(crew[1])))
    bad_v = crew[1].sign_ballot(pid, FOR).signature[:64] + bytes([29])
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature):
        crew[RELAYER].cast_vote_by_sig_raw(pid, FOR, who(crew[1]), bad_v)
    # voter 0x0 with a signature ecrecover cannot read: ecrecover answers 0x0 too, which the
    # contract never takes for a match
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature) as zero:
        crew[RELAYER].cast_vote_by_sig_raw(pid, FOR, ZERO_ADDRESS, bytes(64) + bytes([27]))
    assert zero.value.signer == ZERO_ADDRESS


def test_ballot_with_a_stale_nonce(crew: Crew, pid: ProposalId) -> None:
    stale = crew[1].sign_ballot(pid, FOR)
    other, _ = crew[0].propose_hide_post(POST)
    crew[RELAYER].relay_ballot(crew[1].sign_ballot(other.proposal_id, AGAINST))  # uses the same nonce
    with unchanged(crew, pid), pytest.raises(errors.InvalidSignature):
        crew[RELAYER].relay_ballot(stale)
    assert crew[0].nonce(who(crew[1])) == 1


def test_member_added_after_creation_is_not_eligible(crew: Crew, pid: ProposalId) -> None:
    newcomer = crew[5]
    newcomer.request_to_join(INTRO)
    add, _ = crew[0].propose_add_member(who(newcomer))
    crew[0].cast_vote(add.proposal_id, FOR)
    crew[1].cast_vote(add.proposal_id, FOR)
    crew[0].execute(add)
    assert crew[0].is_member(who(newcomer))
    assert not crew[0].can_vote(pid, who(newcomer))
    with unchanged(crew, pid), pytest.raises(errors.NotEligible) as refused:
        newcomer.cast_vote(pid, FOR)
    err = refused.value
    assert (err.number, err.voter) == (1, who(newcomer))
    assert err.joined_at >= err.proposal_created_at == crew[0].proposal(1).vote_start
    assert f"after proposal 1 was created ({format_time(err.proposal_created_at)})" in str(err)
    later, _ = crew[0].propose_hide_post(POST)
    assert later.eligible_voters == 4
    newcomer.cast_vote(later.proposal_id, FOR)  # eligible on proposals created after joining


def test_removed_member_cannot_vote(crew: Crew, pid: ProposalId) -> None:
    ballot = crew[2].sign_ballot(pid, FOR)  # signed while still a member
    remove, _ = crew[0].propose_remove_member(who(crew[2]))
    crew[0].cast_vote(remove.proposal_id, FOR)
    crew[1].cast_vote(remove.proposal_id, FOR)
    crew[0].execute(remove)
    with unchanged(crew, pid), pytest.raises(errors.NotAMember) as refused:
        crew[2].cast_vote(pid, FOR)
    assert refused.value.account == who(crew[2])
    with unchanged(crew, pid), pytest.raises(errors.NotAMember):
        crew[RELAYER].relay_ballot(ballot)


def test_member_who_left_cannot_vote(crew: Crew, pid: ProposalId) -> None:
    ballot = crew[2].sign_ballot(pid, FOR)
    crew[2].leave()
    with unchanged(crew, pid), pytest.raises(errors.NotAMember):
        crew[2].cast_vote(pid, AGAINST)
    with unchanged(crew, pid), pytest.raises(errors.NotAMember):
        crew[RELAYER].relay_ballot(ballot)
    assert crew[0].proposal(1).eligible_voters == 3  # the electorate stays fixed


def test_vote_after_the_deadline(anvil: Anvil, crew: Crew, pid: ProposalId) -> None:
    ballot = crew[1].sign_ballot(pid, FOR)
    deadline = crew[0].proposal(1).vote_end
    anvil.advance_time(61)
    with unchanged(crew, pid), pytest.raises(errors.VotingClosed) as refused:
        crew[1].cast_vote(pid, FOR)
    err = refused.value
    assert (err.number, err.state, err.deadline) == (1, ProposalState.DEFEATED, deadline)
    assert str(err) == f"voting on proposal 1 closed at {format_time(deadline)} (defeated)"
    assert "closed at" in str(err)
    assert "UTC" in str(err)
    with unchanged(crew, pid), pytest.raises(errors.VotingClosed):
        crew[RELAYER].relay_ballot(ballot)


def test_vote_after_early_decision(crew: Crew, pid: ProposalId) -> None:
    crew[0].cast_vote(pid, FOR)
    crew[1].cast_vote(pid, FOR)
    with unchanged(crew, pid), pytest.raises(errors.VotingClosed) as refused:
        crew[2].cast_vote(pid, AGAINST)
    assert refused.value.state is ProposalState.SUCCEEDED
    assert "already decided (succeeded) before its deadline" in str(refused.value)


def test_vote_in_the_last_second_counts(anvil: Anvil, crew: Crew, pid: ProposalId) -> None:
    deadline = crew[0].proposal(1).vote_end
    anvil.rpc("evm_setNextBlockTimestamp", [deadline])
    result = crew[1].cast_vote(pid, FOR)
    assert crew[0].w3.eth.get_block(result.block_number)["timestamp"] == deadline
    assert crew[0].has_voted(pid, who(crew[1]))


# A vote that passes the client's simulation but is mined after the deadline fails on chain; the
# client must still name the reason (it replays the call on the failed block's own timestamp).
def test_vote_mined_after_the_deadline_reports_voting_closed(anvil: Anvil, crew: Crew, pid: ProposalId) -> None:
    deadline = crew[0].proposal(1).vote_end
    anvil.rpc("evm_setNextBlockTimestamp", [deadline + 1])
    # (not `unchanged`: the proposal's state itself moves from active to defeated as time passes)
    with pytest.raises(errors.VotingClosed) as late:
        crew[1].cast_vote(pid, FOR)
    assert "closed at" in str(late.value)
    assert not crew[0].has_voted(pid, who(crew[1]))
    assert crew[0].proposal(1).for_votes == 0


def test_execute_too_early_twice_or_with_a_wrong_subject(crew: Crew, pid: ProposalId) -> None:
    created = crew[0].proposal(1)
    with unchanged(crew, pid), pytest.raises(errors.NotExecutable) as early:
        crew[RELAYER].execute(created)
    assert (early.value.number, early.value.state) == (1, ProposalState.ACTIVE)
    assert "voting is still open" in str(early.value)
    crew[0].cast_vote(pid, FOR)
    crew[1].cast_vote(pid, FOR)
    wrong = decisions.calldata(ProposalKind.SET_CHARTER, keccak(text="another charter"))
    with unchanged(crew, pid), pytest.raises(GovernorNonexistentProposal) as mismatch:
        crew[RELAYER].execute_raw(wrong, created.description)  # another call: another id
    assert mismatch.value.proposal_id == crew[0].hash_proposal(wrong, created.description)
    with unchanged(crew, pid), pytest.raises(GovernorNonexistentProposal):
        crew[RELAYER].execute_raw(created.calldata, created.description + " ")
    assert crew[0].charter_hash() == bytes(32)
    crew[RELAYER].execute(created)
    with unchanged(crew, pid), pytest.raises(errors.NotExecutable) as twice:
        crew[RELAYER].execute(created)
    assert twice.value.state is ProposalState.EXECUTED
    assert str(twice.value) == "proposal 1 cannot be executed: it was already executed"


def test_unknown_proposal(crew: Crew, pid: ProposalId) -> None:
    unknown = ProposalId(pid ^ 1)
    for attempt in (
        lambda: crew[0].cast_vote(unknown, FOR),
        lambda: crew[0].state(unknown),
        lambda: crew[0].sign_ballot(unknown, FOR),
    ):
        with unchanged(crew, pid), pytest.raises(GovernorNonexistentProposal) as refused:
            attempt()
        assert refused.value.proposal_id == unknown
    with pytest.raises(errors.NoSuchProposal, match="numbered 1 to 1"):
        crew[0].proposal(2)


def run_vote(anvil: Anvil, founders: int, rules: Rules, votes: list[Support], past_deadline: bool) -> Crew:
    """A fresh community of ``founders`` under ``rules``; founder i casts votes[i] on a charter
    proposal; then the clock moves past the deadline if asked. Returns the crew."""
    crew = Crew(deploy_dev_community(anvil, founders=founders, rules=rules))
    created, _ = crew[0].propose_set_charter(CHARTER)
    for i, support in enumerate(votes):
        crew[i].cast_vote(created.proposal_id, support)
    if past_deadline:
        anvil.advance_time(rules.voting_period + 1)
    return crew


Case = tuple[int, int, int, list[Support], bool, ProposalState]


@pytest.mark.parametrize(
    # founders, quorum %, threshold %, votes (founder i casts votes[i]), then past the deadline?, state
    "case",
    [
        (5, 60, 50, [FOR, FOR], False, ProposalState.ACTIVE),  # 2 of 5 < quorum 60 %: still open
        (5, 60, 50, [FOR, FOR], True, ProposalState.DEFEATED),  # ... and missed at the deadline
        (5, 60, 50, [FOR, ABSTAIN, ABSTAIN], True, ProposalState.SUCCEEDED),  # abstaining counts to quorum
        (3, 50, 67, [FOR, FOR, AGAINST], False, ProposalState.DEFEATED),  # 66.7 % < 67 %
        (3, 50, 66, [AGAINST, FOR, FOR], False, ProposalState.SUCCEEDED),  # 66.7 % >= 66 %
        (3, 50, 66, [FOR, FOR], False, ProposalState.SUCCEEDED),  # early: one more against cannot change it
        (3, 50, 50, [FOR, AGAINST, ABSTAIN], False, ProposalState.DEFEATED),  # a tie is not approval
        (3, 50, 50, [ABSTAIN, ABSTAIN, ABSTAIN], False, ProposalState.DEFEATED),  # quorum, but nobody for
        (4, 50, 50, [FOR, AGAINST], True, ProposalState.DEFEATED),  # tie at the deadline
        (4, 50, 100, [AGAINST], False, ProposalState.DEFEATED),  # 100 %: one against decides at once
        (4, 50, 100, [FOR, FOR, FOR], False, ProposalState.ACTIVE),
        (4, 50, 100, [FOR, FOR, FOR, FOR], False, ProposalState.SUCCEEDED),
    ],
)
def test_quorum_and_threshold_edges(anvil: Anvil, case: Case) -> None:
    founders, quorum, threshold, votes, past_deadline, expected = case
    crew = run_vote(anvil, founders, Rules(quorum, threshold, 60), votes, past_deadline)
    proposal = crew[0].proposal(1)
    assert proposal.state is expected
    if expected is ProposalState.SUCCEEDED:
        crew[RELAYER].execute(proposal)
        assert crew[0].charter_hash() == CHARTER
    else:
        with pytest.raises(errors.NotExecutable) as refused:
            crew[RELAYER].execute(proposal)
        assert refused.value.state is expected
        assert crew[0].charter_hash() == bytes(32)


@pytest.mark.parametrize("support", [3, 255])
def test_invalid_vote_type(crew: Crew, pid: ProposalId, support: int) -> None:
    with unchanged(crew, pid), pytest.raises(errors.InvalidVoteType) as refused:
        crew[1].cast_vote(pid, cast(Support, support))
    assert refused.value.support == support
    assert str(refused.value) == f"vote type {support} is not 0 (against), 1 (for) or 2 (abstain)"
    ballot = sign_ballot(account(1), crew[0].ballot_domain(), pid, cast(Support, support), 0)
    with unchanged(crew, pid), pytest.raises(errors.InvalidVoteType):
        crew[RELAYER].cast_vote_by_sig_raw(pid, support, ballot.voter, ballot.signature)


@pytest.mark.parametrize(
    "values", [(0, 50, 60), (101, 50, 60), (50, 49, 60), (50, 101, 60), (50, 50, 59), (50, 50, 365 * 86400 + 1)]
)
def test_invalid_rules(anvil: Anvil, crew: Crew, values: tuple[int, int, int]) -> None:
    rules = Rules(*values)
    with pytest.raises(errors.InvalidArgument):
        crew[0].propose_change_rules(rules)
    with pytest.raises(errors.InvalidRules) as refused:
        raw_propose(crew[0], "changeRules", *values)
    err = refused.value
    assert (err.quorum_pct, err.threshold_pct, err.voting_period) == values
    assert str(err).startswith(f"invalid rules: quorum {rules.quorum_pct}% (1..100)")
    assert crew[0].proposal_count() == 0
    with pytest.raises(errors.InvalidArgument):
        deploy_community(anvil.web3(), account(RELAYER), "bad", [who(crew[0])], rules=rules)


@pytest.mark.parametrize(
    "values",
    [(5, 1024), (255, 1024), (2, 0), (2, 2049), (0, 0), (4, 2**32 - 1), (255, 2**32 - 1)],
)
def test_invalid_media_policy(crew: Crew, values: tuple[int, int]) -> None:
    policy = MediaPolicy(*values)
    with pytest.raises(errors.InvalidArgument):
        crew[0].propose_set_media_policy(policy)
    with pytest.raises(errors.InvalidMediaPolicy) as refused:
        raw_propose(crew[0], "setMediaPolicy", *values)
    err = refused.value
    assert (err.max_attachments, err.max_attachment_kib) == values
    assert str(err) == (
        f"invalid media policy: {values[0]} attachments per post (0..4), {values[1]} KiB each (1..2048)"
    )
    assert crew[0].proposal_count() == 0
    assert crew[0].media_policy() == DEFAULT_MEDIA_POLICY


def test_non_member_cannot_propose_a_media_policy(crew: Crew) -> None:
    outsider = crew[OUTSIDER]
    with pytest.raises(errors.NotAMember) as refused:
        outsider.propose_set_media_policy(MediaPolicy(1, 100))
    assert refused.value.account == who(outsider)
    with pytest.raises(errors.NotAMember):  # membership is checked before the values
        raw_propose(outsider, "setMediaPolicy", 9, 0)
    assert crew[0].proposal_count() == 0
    assert crew[0].media_policy() == DEFAULT_MEDIA_POLICY


def test_media_policy_cannot_be_swapped_at_execution(crew: Crew) -> None:
    """The id commits to the voted policy: executing with a larger one (even one the contract
    would never have accepted as a proposal) is refused, and the policy stays as it was."""
    created, _ = crew[0].propose_set_media_policy(MediaPolicy(1, 64), "small pictures only")
    pid = created.proposal_id
    crew[0].cast_vote(pid, FOR)
    crew[1].cast_vote(pid, FOR)
    for forged in (MediaPolicy(4, 2048), MediaPolicy(255, 2**32 - 1)):
        with unchanged(crew, pid), pytest.raises(GovernorNonexistentProposal):
            crew[RELAYER].execute_raw(decisions.calldata(ProposalKind.SET_MEDIA_POLICY, forged.pack()), "")
    assert crew[0].media_policy() == DEFAULT_MEDIA_POLICY
    crew[RELAYER].execute(created)
    assert crew[0].media_policy() == MediaPolicy(1, 64)
