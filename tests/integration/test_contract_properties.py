"""Property tests: random communities and random votes on the real contract, checked step by step
against the reference model in ``tests/rules_model.py``.

Each example deploys a fresh community on the session's Anvil chain (3..7 founders, random quorum
and threshold), creates one proposal (a new charter, or the removal of a random founder) and lets
the founders vote in a random order (for, against, abstain or not at all), with an optional jump of
the chain's clock past the deadline at a random point. After every step the tallies
(proposalVotes) and the state must equal the model's, and a vote must be refused (VotingClosed,
with the model's state) exactly when the model says voting is closed; while it is open, the
subject of a removal is refused (VoteOnOwnRemoval). Time jumps are safe on the shared chain:
every check is relative to this proposal's own deadline, which is an hour away unless we jump past
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pytest
import requests
from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint

from governance import errors
from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.client import CommunityClient, deploy_community
from governance.events import CharterChanged, MemberRemoved, ProposalExecuted
from governance.types import MIN_REMOVAL_VOTES, ProposalState, Rules, Support
from tests.rules_model import Tally, VoteRules

PERIOD = 3600
CHARTER = bytes.fromhex("c4" * 32)
CHOICES: list[Support | None] = [Support.FOR, Support.AGAINST, Support.ABSTAIN, None]
# Thresholds on or beside a for/against ratio of small numbers, so the ">=" edge is hit often.
EDGE_THRESHOLDS = [50, 60, 66, 67, 75, 80, 100]


def edge_quorums(members: int) -> list[int]:
    """Quorum percentages that k of ``members`` votes meet exactly (or just), for every k."""
    edges = {-(-100 * k // members) for k in range(1, members + 1)}
    return sorted(edges | {q - 1 for q in edges if q > 1})


@dataclass(frozen=True)
class Scenario:
    founders: int
    quorum_pct: int
    threshold_pct: int
    order: list[int]  # the order in which founders get their turn
    choices: list[Support | None]  # choices[i]: founder i's vote (None: does not vote)
    jump_at: int | None  # before turn jump_at (== founders: after all turns), jump past the deadline
    repeat: int | None  # after all turns, founder order[repeat] tries to vote again
    subject: int | None  # the proposal removes this founder; None: it sets a charter

    @property
    def model(self) -> VoteRules:
        if self.subject is None:
            return VoteRules(self.founders, self.quorum_pct, self.threshold_pct)
        return VoteRules(self.founders - 1, self.quorum_pct, self.threshold_pct, min_for=MIN_REMOVAL_VOTES)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    founders = draw(st.integers(3, 7))
    subject = draw(st.none() | st.integers(0, founders - 1))
    electorate = founders if subject is None else founders - 1
    return Scenario(
        founders=founders,
        quorum_pct=draw(st.sampled_from(edge_quorums(electorate)) | st.integers(1, 100)),
        threshold_pct=draw(st.sampled_from(EDGE_THRESHOLDS) | st.integers(50, 100)),
        order=draw(st.permutations(range(founders))),
        choices=draw(st.lists(st.sampled_from(CHOICES), min_size=founders, max_size=founders)),
        jump_at=draw(st.none() | st.integers(0, founders)),
        repeat=draw(st.none() | st.integers(0, founders - 1)),
        subject=subject,
    )


account = cache(dev_account)  # deriving a key from the mnemonic takes milliseconds


def calldata(signature: str, proposal_id: int) -> str:
    return "0x" + (keccak(text=signature)[:4] + proposal_id.to_bytes(32, "big")).hex()


@dataclass(frozen=True)
class Chain:
    anvil: Anvil
    provider: HTTPProvider
    w3: Web3


@pytest.fixture(scope="module")
def chain(anvil: Anvil) -> Chain:
    """One connection for every example: chain id cached, no proxy lookup per request (speed)."""
    session = requests.Session()
    session.trust_env = False
    provider = Web3.HTTPProvider(anvil.rpc_url, session=session, cache_allowed_requests=True)
    return Chain(anvil, provider, Web3(provider))


class Run:
    """One scenario on the chain, with the model alongside it."""

    def __init__(self, chain: Chain, scenario: Scenario) -> None:
        self.chain = chain
        rules = Rules(scenario.quorum_pct, scenario.threshold_pct, PERIOD)
        self.founders = [account(i) for i in range(scenario.founders)]
        addresses = [a.address for a in self.founders]
        self.outsider = deploy_community(chain.w3, account(9), "property", addresses, rules=rules)
        self.clients: dict[int, CommunityClient] = {}
        self.subject = scenario.subject
        if self.subject is None:
            self.created, _ = self.client(0).propose_set_charter(CHARTER)
        else:
            self.created, _ = self.client(0).propose_remove_member(addresses[self.subject])
        self.pid = self.created.proposal_id
        self.model = scenario.model
        self.tally = Tally()
        self.executed = False

    def client(self, founder: int) -> CommunityClient:
        if founder not in self.clients:
            self.clients[founder] = self.outsider.with_account(self.founders[founder])
        return self.clients[founder]

    def read(self) -> tuple[Tally, ProposalState, int]:
        """proposalVotes, state and the chain's time, in one JSON-RPC batch."""
        call = RPCEndpoint("eth_call")
        to = self.outsider.address
        batch = [
            (call, [{"to": to, "data": calldata("proposalVotes(uint256)", self.pid)}, "latest"]),
            (call, [{"to": to, "data": calldata("state(uint256)", self.pid)}, "latest"]),
            (RPCEndpoint("eth_getBlockByNumber"), ["latest", False]),
        ]
        responses = self.chain.provider.make_batch_request(batch)
        assert isinstance(responses, list)
        votes, state, block = (r["result"] for r in responses)
        against, for_votes, abstain = abi_decode(["uint256"] * 3, bytes.fromhex(votes[2:]))
        return Tally(for_votes, against, abstain), ProposalState(int(state, 16)), int(block["timestamp"], 16)

    def expected(self, now: int) -> ProposalState:
        return self.model.state(self.tally, now=now, deadline=self.created.vote_end, executed=self.executed)

    def check(self) -> ProposalState:
        tally, state, now = self.read()
        assert tally == self.tally
        assert state is self.expected(now)
        return state

    def vote(self, founder: int, support: Support, *, repeated: bool = False) -> None:
        expected = self.check()
        client = self.client(founder)
        if expected is not ProposalState.ACTIVE:
            with pytest.raises(errors.VotingClosed) as closed:
                client.cast_vote(self.pid, support)
            assert closed.value.state is expected
        elif founder == self.subject:
            with pytest.raises(errors.VoteOnOwnRemoval):
                client.cast_vote(self.pid, support)
        elif repeated:
            with pytest.raises(errors.AlreadyVoted):
                client.cast_vote(self.pid, support)
        else:
            client.cast_vote(self.pid, support)
            add = [int(support is s) for s in (Support.FOR, Support.AGAINST, Support.ABSTAIN)]
            self.tally = self.tally.plus(*add)

    def jump(self) -> None:
        self.chain.anvil.advance_time(PERIOD + 1)

    def execute(self) -> None:
        expected = self.check()
        if expected is ProposalState.SUCCEEDED:
            result = self.outsider.execute(self.created)
            decided = CharterChanged if self.subject is None else MemberRemoved
            assert [type(e) for e in result.events] == [ProposalExecuted, decided]
            self.executed = True
        else:
            with pytest.raises(errors.NotExecutable) as refused:
                self.outsider.execute(self.created)
            assert refused.value.state is expected
        assert self.decided() is self.executed

    def decided(self) -> bool:
        """Whether the proposal's decision is in force: the charter set, or the subject gone."""
        if self.subject is None:
            return self.outsider.charter_hash() == CHARTER
        return not self.outsider.is_member(self.founders[self.subject].address)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_votes_and_states_follow_the_model(chain: Chain, scenario: Scenario) -> None:
    run = Run(chain, scenario)
    assert run.created.eligible_voters == run.model.eligible
    run.check()
    voted: list[int] = []
    for turn, founder in enumerate(scenario.order):
        if scenario.jump_at == turn:
            run.jump()
            run.check()
        support = scenario.choices[founder]
        if support is None:
            continue
        before = run.tally
        run.vote(founder, support)
        if run.tally != before:
            voted.append(founder)
        run.check()
    if scenario.jump_at == scenario.founders:
        run.jump()
        run.check()
    if scenario.repeat is not None:
        founder = scenario.order[scenario.repeat]
        run.vote(founder, Support.FOR, repeated=founder in voted)
        run.check()
    run.execute()
    run.check()


@pytest.mark.parametrize(
    ("eligible", "quorum", "threshold", "tally", "expected"),
    [
        # threshold 67: 2 of 3 is 66.7 % -> defeated; 66: succeeded
        (3, 50, 67, Tally(2, 1, 0), ProposalState.DEFEATED),
        (3, 50, 66, Tally(2, 1, 0), ProposalState.SUCCEEDED),
        # threshold 67 with one vote outstanding: a third for vote could still make it 100 %
        (3, 50, 67, Tally(2, 0, 0), ProposalState.ACTIVE),
        # a tie is never approved, whatever the threshold
        (4, 50, 50, Tally(2, 2, 0), ProposalState.DEFEATED),
        # threshold 100: one against defeats at once
        (4, 50, 100, Tally(0, 1, 0), ProposalState.DEFEATED),
        # everyone abstained: quorum met, but nothing was approved
        (3, 50, 50, Tally(0, 0, 3), ProposalState.DEFEATED),
        # quorum 60 of 5 is 3 votes; abstentions count toward it
        (5, 60, 50, Tally(1, 0, 2), ProposalState.ACTIVE),
        (5, 60, 50, Tally(3, 0, 0), ProposalState.SUCCEEDED),
        (1, 1, 50, Tally(0, 0, 0), ProposalState.ACTIVE),
        (1, 100, 100, Tally(1, 0, 0), ProposalState.SUCCEEDED),
    ],
)
def test_model_before_deadline(
    eligible: int, quorum: int, threshold: int, tally: Tally, expected: ProposalState
) -> None:
    assert VoteRules(eligible, quorum, threshold).state(tally, now=100, deadline=100) is expected


@pytest.mark.parametrize(
    ("eligible", "tally", "deadline_passed", "expected"),
    [
        # two others decide a removal in a community of three: one for vote is not enough ...
        (2, Tally(1, 0, 0), False, ProposalState.ACTIVE),
        (2, Tally(1, 0, 0), True, ProposalState.DEFEATED),
        # ... and once two for votes are out of reach it is defeated at once
        (2, Tally(1, 0, 1), False, ProposalState.DEFEATED),
        (2, Tally(2, 0, 0), False, ProposalState.SUCCEEDED),
        # quorum 50 % of 4 and the threshold met by one for vote, still two are needed
        (4, Tally(1, 0, 2), False, ProposalState.ACTIVE),
        (4, Tally(1, 0, 3), False, ProposalState.DEFEATED),
    ],
)
def test_model_of_a_removal(eligible: int, tally: Tally, deadline_passed: bool, expected: ProposalState) -> None:
    rules = VoteRules(eligible, 50, 50, min_for=MIN_REMOVAL_VOTES)
    assert rules.state(tally, now=101 if deadline_passed else 100, deadline=100) is expected


@pytest.mark.parametrize(
    ("tally", "expected"),
    [
        (Tally(2, 0, 0), ProposalState.DEFEATED),  # quorum 60 % of 5 missed
        (Tally(1, 0, 2), ProposalState.SUCCEEDED),  # abstentions make the quorum
        (Tally(2, 1, 0), ProposalState.SUCCEEDED),
        (Tally(1, 1, 1), ProposalState.DEFEATED),
    ],
)
def test_model_after_deadline(tally: Tally, expected: ProposalState) -> None:
    rules = VoteRules(5, 60, 50)
    assert rules.state(tally, now=101, deadline=100) is expected
    assert rules.state(tally, now=101, deadline=100, executed=True) is ProposalState.EXECUTED
