"""The chain moving while a node is crashed and restarted: so that a check of its cursor and view
after each restart compares against a chain that changed since the last one.

``ChainActivity`` sends one governance decision at a time with Anvil's dev accounts, in turn:
an applicant joins by vote, a member authorises a spare app key (that signs nothing, so
revoking it erases nothing), a post is hidden by vote, a spare key is revoked, and a member who
joined leaves again. Every decision is a real transaction the node's watcher must apply.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from governance.accounts import DEV_ACCOUNT_COUNT, dev_account
from governance.client import CommunityClient, TxResult
from governance.devchain import DevCommunity
from governance.errors import VotingClosed
from governance.events import ProposalCreated
from governance.types import Support

#: The dev account that deploys a dev community (deploy_dev_community): never a joiner.
_DEPLOYER = 9

KINDS = ("join", "authorise", "hide", "revoke", "leave")


@dataclass
class ChainActivity:
    """Governance decisions on ``dev``'s chain, one per ``step``; ``done`` counts them by kind."""

    dev: DevCommunity
    done: Counter[str] = field(default_factory=Counter)
    hidden: set[str] = field(default_factory=set)
    _members: list[LocalAccount] = field(default_factory=list)
    _joined: list[LocalAccount] = field(default_factory=list)
    _spare_keys: list[tuple[LocalAccount, bytes]] = field(default_factory=list)
    _next_joiner: int = 0
    _turn: int = 0
    _clients: dict[str, CommunityClient] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._members = list(self.dev.founders)
        self._next_joiner = len(self.dev.founders)

    def step(self, rng: random.Random, hide_candidates: list[str]) -> str:
        """Sends the next decision that can be made now; returns what it did, in a few words."""
        for _ in range(len(KINDS)):
            kind = KINDS[self._turn % len(KINDS)]
            self._turn += 1
            said = self._try(kind, rng, [p for p in hide_candidates if p not in self.hidden])
            if said:
                self.done[kind] += 1
                return said
        return "nothing to do"

    def _try(self, kind: str, rng: random.Random, candidates: list[str]) -> str:
        if kind == "join" and self._next_joiner < min(_DEPLOYER, DEV_ACCOUNT_COUNT):
            return self._join()
        if kind == "authorise":
            owner = rng.choice(self._members)
            key = secrets.token_bytes(32)
            self._client(owner).add_key(key)
            self._spare_keys.append((owner, key))
            return f"{owner.address[:8]} authorised key {key.hex()[:8]}"
        if kind == "hide" and candidates:
            post = rng.choice(candidates)
            self._decide(lambda c: c.propose_hide_post(bytes.fromhex(post), "crash test"))
            self.hidden.add(post)
            return f"post {post[:12]} hidden"
        if kind == "revoke" and self._spare_keys:
            owner, key = self._spare_keys.pop(rng.randrange(len(self._spare_keys)))
            if owner not in self._members:
                return ""  # its owner left: the key went with them
            self._client(owner).revoke_key(key)
            return f"{owner.address[:8]} revoked key {key.hex()[:8]}"
        if kind == "leave" and self._joined:
            leaving = self._joined.pop(0)
            self._client(leaving).leave()
            self._members.remove(leaving)
            return f"{leaving.address[:8]} left"
        return ""

    def _join(self) -> str:
        applicant = dev_account(self._next_joiner)
        self._next_joiner += 1
        self._client(applicant).request_to_join(secrets.token_bytes(32))
        self._decide(lambda c: c.propose_add_member(applicant.address, "crash test"))
        self._members.append(applicant)
        self._joined.append(applicant)
        return f"{applicant.address[:8]} joined"

    def _decide(self, propose: Callable[[CommunityClient], tuple[ProposalCreated, TxResult]]) -> None:
        """A proposal by the first member, members for it until it is decided, executed."""
        created, _ = propose(self._client(self._members[0]))
        for voter in self._members:
            try:
                self._client(voter).cast_vote(created.proposal_id, Support.FOR)
            except VotingClosed:
                break  # decided early: the votes still outstanding could no longer change it
        self._client(self._members[0]).execute(created)

    def _client(self, account: LocalAccount) -> CommunityClient:
        if account.address not in self._clients:
            self._clients[account.address] = self.dev.client(account)
        return self._clients[account.address]
