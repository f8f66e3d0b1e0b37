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

from governance import calls
from governance.accounts import load_keystore
from governance.calls import ContractCall, PreparedCall
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
from governance.events import ProposalCreated
from governance.types import ProposalKind, Support
from node.api.fields import Body, Choice, MemberAddress, Text, parse_id
from node.api.govjson import (
    DECISIONS,
    charter_json,
    media_json,
    member_json,
    moderation_json,
    prepared_json,
    proposal_json,
    request_json,
    rules_json,
)
from node.api.naming import Names
from node.api.problems import HttpError, Json
from node.api.proposing import ProposalRequest, Reason, charter_posts, proposal_call
from node.store.feed import FeedItem

T = TypeVar("T")

Passphrase = Annotated[str, Text(1024, blank=True)]


class ProposalFields(ProposalRequest):
    passphrase: Passphrase


class WalletProposal(ProposalRequest):
    #: The browser wallet's account that will sign (checked by simulating the call from it).
    account: MemberAddress


class VoteRequest(Body):
    support: Annotated[str, Choice("for", "against", "abstain")]
    reason: Reason = ""


class VoteFields(VoteRequest):
    passphrase: Passphrase


class WalletVote(VoteRequest):
    account: MemberAddress


class ExecuteFields(Body):
    passphrase: Passphrase


class WalletExecute(Body):
    account: MemberAddress


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
    #: Publishes a post in the general room for the member (a charter's text), answers its id.
    publish_post: Callable[[str], Awaitable[dict[str, Any]]]
    #: A visible post this node holds, by id.
    post: Callable[[bytes], FeedItem | None]
    names: Names
    _client: CommunityClient | None = None
    _one_at_a_time: trio.CapacityLimiter = field(default_factory=lambda: trio.CapacityLimiter(1))

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/gov", self.overview, methods=["GET"])
        api.add_api_route("/v1/gov/proposals", self.proposals, methods=["GET"])
        api.add_api_route("/v1/gov/moderation", self.moderation, methods=["GET"])
        api.add_api_route("/v1/gov/proposals", self.propose, methods=["POST"], status_code=201)
        api.add_api_route("/v1/gov/proposals/{number}/vote", self.vote, methods=["POST"], status_code=201)
        api.add_api_route("/v1/gov/proposals/{number}/execute", self.execute, methods=["POST"], status_code=201)
        api.add_api_route("/v1/gov/charter", self.charter, methods=["GET"])
        wallet = "/v1/gov/wallet/proposals"
        api.add_api_route(wallet, self.prepare_proposal, methods=["POST"])
        api.add_api_route(wallet + "/{number}/vote", self.prepare_vote, methods=["POST"])
        api.add_api_route(wallet + "/{number}/execute", self.prepare_execute, methods=["POST"])
        api.add_api_route("/v1/gov/transactions/{tx}", self.transaction, methods=["GET"])
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
                "media_policy": media_json(client.media_policy()),
                "members": [member_json(m) for m in members],
                "join_requests": [request_json(r) for r in client.join_requests()],
                "chain_time": client.chain_time(),
            }

        return Json(self.names.label(await self._read(read)))

    async def proposals(self) -> Json:
        """Every proposal, newest first: tallies, time left, and whether this member voted."""

        def read(client: CommunityClient) -> dict[str, Any]:
            me, now = self.member(), client.chain_time()
            items = []
            for proposal in client.proposals():
                voted = client.has_voted(proposal.id, me) if me is not None else None
                items.append(proposal_json(proposal, now, voted))
            return {"proposals": items, "chain_time": now}

        return Json(self.names.label(await self._read(read)))

    async def moderation(self) -> Json:
        """Every hide, unhide and removal, newest first, with the proposal or moderator that
        decided it."""

        def read(client: CommunityClient) -> dict[str, Any]:
            events = client.events(kinds=[ProposalCreated, *DECISIONS])
            created = {int(e.proposal_id): e for e in events if isinstance(e, ProposalCreated)}
            blocks = {e.log.block_number for e in events if isinstance(e, DECISIONS)}
            times = {n: b.timestamp for n in blocks if (b := client.block(n)) is not None}
            log = [entry for e in reversed(events) if (entry := moderation_json(e, created, times))]
            return {"log": log}

        return Json(self.names.label(await self._read(read)))

    async def charter(self) -> Json:
        """The charter: the hash on the chain and, where this node holds it, the text that the
        proposal setting it cited, with whether the text's keccak-256 is that hash."""

        def read(client: CommunityClient) -> tuple[bytes, list[bytes]]:
            current = client.charter_hash()
            cited = [
                post
                for e in client.events(kinds=[ProposalCreated])
                if isinstance(e, ProposalCreated) and e.kind is ProposalKind.SET_CHARTER and e.subject == current
                for post in charter_posts(e.description)
            ]
            return current, cited

        current, cited = await self._read(read)
        return Json(charter_json(current, cited, self.post))

    async def propose(self, fields: ProposalFields) -> Json:
        """Proposes any kind of decision (see ``node.api.proposing``), signed by the keystore."""
        account = await self._in_thread(lambda: self._unlock(fields.passphrase))
        call = await self._proposal_call(fields)
        result = await self._in_thread(lambda: self._connected().with_account(account).send(call))
        created = result.first(ProposalCreated)
        return Json({"number": created.number, "id": str(created.proposal_id), **_tx(result)}, 201)

    async def vote(self, number: str, fields: VoteFields) -> Json:
        """Votes for, against or abstaining on proposal ``number``, with an optional reason."""
        support, which = Support.parse(fields.support), _number(number)

        def send(client: CommunityClient) -> TxResult:
            return client.send(calls.cast_vote(client.proposal_id(which), support, fields.reason))

        sent = await self._send(fields.passphrase, send)
        return Json({"number": which, "support": support.label, **_tx(sent)}, 201)

    async def execute(self, number: str, fields: ExecuteFields) -> Json:
        """Executes proposal ``number`` once it has passed (anyone may)."""
        which = _number(number)

        def send(client: CommunityClient) -> TxResult:
            return client.execute(client.proposal(which))

        return Json({"number": which, **_tx(await self._send(fields.passphrase, send))}, 201)

    # ------------------------------------------------------------------ browser wallets (EIP-1193)

    async def prepare_proposal(self, fields: WalletProposal) -> Json:
        """A proposal as the unsigned transaction the page hands to the browser's wallet."""
        call = await self._proposal_call(fields)
        return Json(prepared_json(await self._read(lambda client: client.prepare(call, fields.account))))

    async def prepare_vote(self, number: str, fields: WalletVote) -> Json:
        which, support = _number(number), Support.parse(fields.support)

        def prepare(client: CommunityClient) -> PreparedCall:
            return client.prepare(calls.cast_vote(client.proposal_id(which), support, fields.reason), fields.account)

        return Json(prepared_json(await self._read(prepare)))

    async def prepare_execute(self, number: str, fields: WalletExecute) -> Json:
        which = _number(number)

        def prepare(client: CommunityClient) -> PreparedCall:
            proposal = client.proposal(which)
            return client.prepare(calls.execute(proposal.calldata, proposal.description), fields.account)

        return Json(prepared_json(await self._read(prepare)))

    async def transaction(self, tx: str) -> Json:
        """What became of a transaction the browser's wallet sent: pending, or mined with the
        proposal it made; a failure is the contract's reason, in words (409)."""
        tx_hash = parse_id(tx, "transaction hash")
        result = await self._read(lambda client: client.outcome(tx_hash))
        if result is None:
            return Json({"state": "pending", "tx": "0x" + tx_hash.hex()})
        made = [e for e in result.events if isinstance(e, ProposalCreated)]
        number = {"number": made[0].number} if made else {}
        return Json({"state": "mined", **number, **_tx(result)})

    async def _proposal_call(self, fields: ProposalRequest) -> ContractCall:
        """The call of a proposal; a charter's text is published first, for the call to cite."""
        charter_post = None
        if fields.kind == "set_charter" and fields.text.strip():
            charter_post = parse_id((await self.publish_post(fields.text))["id"], "post")
        return proposal_call(fields, charter_post)

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


def _number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
        raise HttpError(400, f"a proposal number is 1, 2, 3 …, not {text[:20]!r}")
    return int(text)


def _tx(result: TxResult) -> dict[str, Any]:
    return {"tx": "0x" + result.tx_hash.hex(), "block": result.block_number, "gas": result.gas_used}
