"""A reference model of kiez's voting rules, for property tests of the contract.

Written from the rules as they are stated to members, not from the contract's code:

* a proposal passes when at least ``quorum_pct`` percent of the members eligible on it voted
  (for, against or abstain count alike), at least ``threshold_pct`` percent of the for+against
  votes are for, and there are more for votes than against votes;
* a removal is decided by the other members: its subject is not eligible on it, and it needs at
  least two for votes (``min_for``) besides the rest;
* after its deadline it is decided by the votes it got;
* before its deadline it is decided as soon as *no* way the members who have not voted yet could
  still vote (or not vote) changes the outcome; until then it is active.

The early decision is computed by brute force over every way the outstanding votes could still
fall, with exact fractions, so it shares no shortcut formula with the contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from governance.types import ProposalState


@dataclass(frozen=True)
class Tally:
    """Votes cast so far on one proposal."""

    for_votes: int = 0
    against_votes: int = 0
    abstain_votes: int = 0

    @property
    def cast(self) -> int:
        return self.for_votes + self.against_votes + self.abstain_votes

    def plus(self, for_votes: int, against_votes: int, abstain_votes: int) -> Tally:
        return Tally(
            self.for_votes + for_votes,
            self.against_votes + against_votes,
            self.abstain_votes + abstain_votes,
        )


@dataclass(frozen=True)
class VoteRules:
    """The rules a proposal was created under, how many members may vote on it, and the fewest
    for votes that can pass it (two for a removal)."""

    eligible: int
    quorum_pct: int
    threshold_pct: int
    min_for: int = 1

    def quorum_met(self, tally: Tally) -> bool:
        return self.eligible > 0 and Fraction(tally.cast, self.eligible) >= Fraction(self.quorum_pct, 100)

    def approved(self, tally: Tally) -> bool:
        decided = tally.for_votes + tally.against_votes
        if tally.for_votes <= tally.against_votes:
            return False
        return Fraction(tally.for_votes, decided) >= Fraction(self.threshold_pct, 100)

    def passes(self, tally: Tally) -> bool:
        """The final outcome if voting ended with ``tally``."""
        return self.quorum_met(tally) and self.approved(tally) and tally.for_votes >= self.min_for

    def completions(self, tally: Tally) -> Iterator[Tally]:
        """Every tally the proposal could still end with: each member who has not voted yet
        votes for, against, abstains, or never votes."""
        outstanding = max(self.eligible - tally.cast, 0)
        for for_votes in range(outstanding + 1):
            for against_votes in range(outstanding - for_votes + 1):
                for abstain_votes in range(outstanding - for_votes - against_votes + 1):
                    yield tally.plus(for_votes, against_votes, abstain_votes)

    def state(self, tally: Tally, *, now: int, deadline: int, executed: bool = False) -> ProposalState:
        """The proposal's state at time ``now`` (votes are accepted up to and at ``deadline``)."""
        if executed:
            return ProposalState.EXECUTED
        if now > deadline:
            return ProposalState.SUCCEEDED if self.passes(tally) else ProposalState.DEFEATED
        outcomes = {self.passes(final) for final in self.completions(tally)}
        if outcomes == {True}:
            return ProposalState.SUCCEEDED
        if outcomes == {False}:
            return ProposalState.DEFEATED
        return ProposalState.ACTIVE

    def voting_open(self, tally: Tally, *, now: int, deadline: int) -> bool:
        return self.state(tally, now=now, deadline=deadline) is ProposalState.ACTIVE
