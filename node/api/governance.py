"""The governance routes: what the contract says (members, join requests, proposals, the
moderation log) and the transactions a member sends from the web app (propose, vote, execute).

Read from the chain endpoint the node follows, through ``governance``'s client, on a worker
thread (one call at a time). A transaction is signed with the member's keystore on this node
(``$KIEZ_HOME/keystore.json``): the passphrase comes with each request, unlocks the key for that
one transaction and is never stored or logged. Every refusal is the sentence the CLI prints for
the same failure (``governance.errors``), with a status saying what kind it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import trio
from eth_account.signers.local import LocalAccount
from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError

from governance.accounts import load_keystore
from governance.client import CommunityClient, TxResult
from governance.errors import (
    AccountError,
    ChainUnavailable,
    ContractRevert,
    GovernanceError,
    InvalidArgument,
    NoSuchProposal,
    TransactionFailed,
)
from governance.events import PostHidden, PostUnhidden, ProposalCreated
from governance.types import ProposalKind, Support
from node.api.fields import Body, Choice, MemberAddress, Text, parse_id
from node.api.govjson import member_json, moderation_json, proposal_json, request_json, rules_json
from node.api.problems import HttpError, Json

T = TypeVar("T")

#: The kinds the page proposes, with what their target is.
POST_KINDS = {"hide_post": ProposalKind.HIDE_POST, "unhide_post": ProposalKind.UNHIDE_POST}
ACCOUNT_KINDS = {
    "add_member": ProposalKind.ADD_MEMBER,
    "remove_member": ProposalKind.REMOVE_MEMBER,
    "grant_moderator": ProposalKind.GRANT_MODERATOR,
    "revoke_moderator": ProposalKind.REVOKE_MODERATOR,
}
Passphrase = Annotated[str, Text(1024, blank=True)]
ADDRESS: TypeAdapter[str] = TypeAdapter(MemberAddress)
Reason = Annotated[str, Text(1000, blank=True)]


class ProposalFields(Body):
    kind: Annotated[str, Choice(*POST_KINDS, *ACCOUNT_KINDS)]
    #: A post's id for hide_post/unhide_post, a member's address for the others.
    target: Annotated[str, Text(66)]
    description: Reason = ""
    passphrase: Passphrase


class VoteFields(Body):
    support: Annotated[str, Choice("for", "against", "abstain")]
    reason: Reason = ""
    passphrase: Passphrase


class ExecuteFields(Body):
    passphrase: Passphrase


class ForgetFields(Body):
    passphrase: Passphrase
    #: The page's confirmation: the member ticked what it says will be erased.
    confirm: Annotated[str, Choice("erase everything I wrote and leave")]


@dataclass
class Governance:
    #: Connects (once) to the chain endpoint and community the node follows.
    connect: Callable[[], CommunityClient]
    keystore: Path
    #: The member this node acts for (None until its app key is registered).
    member: Callable[[], str | None]
    #: Signs and gossips the member's ERASE (the message routes' publishing, passed in by the app).
    erase: Callable[[], Awaitable[dict[str, Any]]]
    #: This node's app key, revoked on forget-me.
    app_key: bytes
    _client: CommunityClient | None = None
    _one_at_a_time: trio.CapacityLimiter = field(default_factory=lambda: trio.CapacityLimiter(1))

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/gov", self.overview, methods=["GET"])
        api.add_api_route("/v1/gov/proposals", self.proposals, methods=["GET"])
        api.add_api_route("/v1/gov/moderation", self.moderation, methods=["GET"])
        api.add_api_route("/v1/gov/proposals", self.propose, methods=["POST"], status_code=201)
        api.add_api_route("/v1/gov/proposals/{number}/vote", self.vote, methods=["POST"], status_code=201)
        api.add_api_route("/v1/gov/proposals/{number}/execute", self.execute, methods=["POST"], status_code=201)
        api.add_api_route("/v1/forget-me", self.forget_me, methods=["POST"], status_code=201)

    async def overview(self) -> Json:
        """The community: its rules, charter hash, members (and moderators) and join requests."""

        def read(client: CommunityClient) -> dict[str, Any]:
            me = self.member()
            members = client.members()
            return {
                "name": client.name(),
                "me": me,
                "moderator": any(m.address == me and m.moderator for m in members),
                "rules": rules_json(client.rules()),
                "charter_hash": "0x" + client.charter_hash().hex(),
                "members": [member_json(m) for m in members],
                "join_requests": [request_json(r) for r in client.join_requests()],
                "chain_time": client.chain_time(),
            }

        return Json(await self._read(read))

    async def proposals(self) -> Json:
        """Every proposal, newest first: tallies, time left, and whether this member voted."""

        def read(client: CommunityClient) -> dict[str, Any]:
            me, now = self.member(), client.chain_time()
            items = []
            for proposal in client.proposals():
                voted = client.has_voted(proposal.id, me) if me is not None else None
                items.append(proposal_json(proposal, now, voted))
            return {"proposals": items, "chain_time": now}

        return Json(await self._read(read))

    async def moderation(self) -> Json:
        """Every hide and unhide, newest first, with the proposal or moderator that decided it."""

        def read(client: CommunityClient) -> dict[str, Any]:
            events = client.events(kinds=[ProposalCreated, PostHidden, PostUnhidden])
            created = {int(e.proposal_id): e for e in events if isinstance(e, ProposalCreated)}
            blocks = {e.log.block_number for e in events if isinstance(e, PostHidden | PostUnhidden)}
            times = {n: b.timestamp for n in blocks if (b := client.block(n)) is not None}
            log = [entry for e in reversed(events) if (entry := moderation_json(e, created, times))]
            return {"log": log}

        return Json(await self._read(read))

    async def propose(self, fields: ProposalFields) -> Json:
        """Proposes to hide or unhide a post, or to add, remove, make or unmake a moderator."""
        kind = POST_KINDS.get(fields.kind) or ACCOUNT_KINDS[fields.kind]
        target: bytes | str = parse_id(fields.target, "target") if kind.names_post else _address(fields.target)

        def send(client: CommunityClient) -> TxResult:
            calls: dict[ProposalKind, Callable[[Any, str], tuple[ProposalCreated, TxResult]]] = {
                ProposalKind.HIDE_POST: client.propose_hide_post,
                ProposalKind.UNHIDE_POST: client.propose_unhide_post,
                ProposalKind.ADD_MEMBER: client.propose_add_member,
                ProposalKind.REMOVE_MEMBER: client.propose_remove_member,
                ProposalKind.GRANT_MODERATOR: client.propose_grant_moderator,
                ProposalKind.REVOKE_MODERATOR: client.propose_revoke_moderator,
            }
            return calls[kind](target, fields.description)[1]

        result = await self._send(fields.passphrase, send)
        created = result.first(ProposalCreated)
        return Json({"number": created.number, "id": str(created.proposal_id), **_tx(result)}, 201)

    async def vote(self, number: str, fields: VoteFields) -> Json:
        """Votes for, against or abstaining on proposal ``number``, with an optional reason."""
        support, which = Support.parse(fields.support), _number(number)

        def send(client: CommunityClient) -> TxResult:
            return client.cast_vote(client.proposal_id(which), support, fields.reason)

        sent = await self._send(fields.passphrase, send)
        return Json({"number": which, "support": support.label, **_tx(sent)}, 201)

    async def execute(self, number: str, fields: ExecuteFields) -> Json:
        """Executes proposal ``number`` once it has passed (anyone may)."""
        which = _number(number)

        def send(client: CommunityClient) -> TxResult:
            return client.execute(client.proposal(which))

        return Json({"number": which, **_tx(await self._send(fields.passphrase, send))}, 201)

    async def forget_me(self, fields: ForgetFields) -> Json:
        """What ``kiez forget-me`` does: every node erases what this member wrote, this node's app
        key is revoked, and the member leaves the community. The passphrase is checked first."""
        account = await self._in_thread(lambda: self._unlock(fields.passphrase))
        erased = await self.erase()

        def revoke_and_leave() -> list[str]:
            client = self._connected().with_account(account)
            done = []
            info = client.key_info(self.app_key)
            if info.active and info.owner == account.address:
                done.append(f"app key revoked in block {client.revoke_key(self.app_key).block_number}")
            if client.is_member(account.address):
                done.append(f"left the community in block {client.leave().block_number}")
            return done

        return Json({"erase": erased["id"], "done": await self._in_thread(revoke_and_leave)}, 201)

    # ------------------------------------------------------------------ plumbing

    async def _read(self, read: Callable[[CommunityClient], T]) -> T:
        return await self._in_thread(lambda: read(self._connected()))

    async def _send(self, passphrase: str, send: Callable[[CommunityClient], TxResult]) -> TxResult:
        def unlock_and_send() -> TxResult:
            client = self._connected().with_account(self._unlock(passphrase))
            return send(client)

        return await self._in_thread(unlock_and_send)

    def _unlock(self, passphrase: str) -> LocalAccount:
        if not self.keystore.exists():
            raise HttpError(409, f"this node has no keystore ({self.keystore}): vote with kiez gov --keystore FILE")
        return load_keystore(self.keystore, passphrase)

    def _connected(self) -> CommunityClient:
        if self._client is None:
            self._client = self.connect()
        return self._client

    async def _in_thread(self, work: Callable[[], T]) -> T:
        try:
            return await trio.to_thread.run_sync(work, limiter=self._one_at_a_time)
        except GovernanceError as exc:
            raise HttpError(_status(exc), str(exc)) from None


def _status(exc: GovernanceError) -> int:
    """The HTTP status of a governance failure: whose doing it was, and whether retrying helps."""
    for kind, status in (
        (ChainUnavailable, 503),
        (NoSuchProposal, 404),
        (AccountError, 403),
        (InvalidArgument, 400),
        (ContractRevert, 409),
        (TransactionFailed, 409),
    ):
        if isinstance(exc, kind):
            return status
    return 400


def _address(value: str) -> str:
    """A member's address, checked as the API checks every address."""
    try:
        return ADDRESS.validate_python(value)
    except ValidationError:
        raise HttpError(400, "target must be an address: 0x and 40 hex digits") from None


def _number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
        raise HttpError(400, f"a proposal number is 1, 2, 3 …, not {text[:20]!r}")
    return int(text)


def _tx(result: TxResult) -> dict[str, Any]:
    return {"tx": "0x" + result.tx_hash.hex(), "block": result.block_number, "gas": result.gas_used}
