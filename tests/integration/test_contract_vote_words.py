"""Vote records across words of proposal numbers.

A member's Member slot holds the vote bits of one word of 88 proposal numbers, the newest it voted
in; a vote in a newer word moves the old bits to the older words' mapping, and a vote on a
proposal of an older word (still open after newer ones were created) is recorded there. The
benchmarks and the other tests stay within the first word, so this one opens proposals 1..89 and
votes across the boundary between 87 (word 0) and 88 (word 1) in both orders.
"""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from governance import errors
from governance.anvil import Anvil
from governance.devchain import DevCommunity, deploy_dev_community
from governance.types import ProposalId, Rules, Support

WORD = 88


@pytest.fixture
def opened(anvil: Anvil) -> tuple[DevCommunity, dict[int, ProposalId]]:
    """Seven founders (three votes decide nothing early) and 89 open proposals (an hour each), by number."""
    community = deploy_dev_community(anvil, founders=7, rules=Rules(50, 50, 3600))
    proposer = community.client(community.founders[0])
    ids = {}
    for n in range(1, WORD + 2):
        created, _ = proposer.propose_set_charter(keccak(text=f"charter {n}"), f"charter {n}")
        assert created.number == n
        ids[n] = created.proposal_id
    return community, ids


def test_votes_are_kept_across_words_in_either_order(opened: tuple[DevCommunity, dict[int, ProposalId]]) -> None:
    community, ids = opened
    a, b, c = (community.client(f) for f in community.founders[:3])
    # a: word 0, then word 1 (its word-0 bits move out), then word 0 again (the older-word path).
    order = {a: [5, WORD, WORD - 1], b: [WORD + 1, WORD - 1, 5], c: [WORD - 1, 5]}
    for client, numbers in order.items():
        for n in numbers:
            client.cast_vote(ids[n], Support.FOR)
    for client, numbers in order.items():
        voter = str(client.sender)
        for n in (5, WORD - 1, WORD, WORD + 1, 6):
            assert a.has_voted(ids[n], voter) == (n in numbers), (voter, n)
        for n in numbers:
            with pytest.raises(errors.AlreadyVoted) as refused:
                client.cast_vote(ids[n], Support.AGAINST)
            assert refused.value.number == n
    tallies = {n: a.proposal(n) for n in (5, WORD - 1, WORD, WORD + 1)}
    assert {n: t.for_votes for n, t in tallies.items()} == {5: 3, WORD - 1: 3, WORD: 1, WORD + 1: 1}
    assert all(t.against_votes == 0 for t in tallies.values())
