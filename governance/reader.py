"""Reading one Community contract: its rules, members, keys, proposals, votes and events, and
the plumbing every call shares (revert decoding, signing and sending transactions). Writing is
``governance.client.CommunityClient``, which builds on this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self, cast

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, TimeExhausted, Web3RPCError, Web3ValidationError

from governance import replies
from governance.artifacts import community_artifact
from governance.ballot import BallotDomain
from governance.errors import (
    AccountError,
    BadReply,
    ChainUnavailable,
    GovernanceError,
    NoSuchProposal,
    NotACommunity,
    RevertContext,
    TransactionFailed,
)
from governance.events import Event, EventDecoder, MemberAdded, ProposalCreated, ProposalNumbered, VoteCast
from governance.replies import BlockRef
from governance.reverts import RevertDecoder
from governance.rpc import LOG_RANGE, TxResult, bytes32, checksum, connect_web3, gas_limit, revert_data, rpc_errors
from governance.types import (
    Address,
    AppKey,
    GuestPolicy,
    JoinRequest,
    KeyInfo,
    MediaPolicy,
    MemberInfo,
    Proposal,
    ProposalId,
    ProposalNumber,
    ProposalState,
    Rules,
)


class CommunityReader:
    """One community on one chain, optionally acting as one account: its views and events, and
    the transaction plumbing its subclass uses."""

    def __init__(
        self,
        w3: Web3,
        address: Address,
        account: LocalAccount | None = None,
        *,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.w3 = w3
        self.address = address
        self.account = account
        self.receipt_timeout = receipt_timeout
        abi = community_artifact().abi
        self._contract: Contract = w3.eth.contract(address=address, abi=abi)
        self._reverts = RevertDecoder(abi)
        self.decoder = EventDecoder(abi)
        self._chain_id: int | None = None
        self._name: str | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def connect(
        cls,
        rpc_url: str,
        address: str,
        account: LocalAccount | None = None,
        *,
        timeout: float = 10.0,
    ) -> Self:
        """Connects and checks that ``address`` holds a Community contract."""
        w3 = connect_web3(rpc_url, timeout)
        client = cls(w3, checksum(address), account)
        client.verify()
        return client

    @property
    def sender(self) -> Address | None:
        """The account this client acts as (None: read-only)."""
        return Address(self.account.address) if self.account is not None else None

    def with_account(self, account: LocalAccount | None) -> Self:
        """The same community, acting as ``account``."""
        other = type(self)(self.w3, self.address, account, receipt_timeout=self.receipt_timeout)
        other._chain_id, other._name = self._chain_id, self._name
        return other

    @property
    def rpc_url(self) -> str:
        return str(getattr(self.w3.provider, "endpoint_uri", "the chain"))

    def verify(self) -> None:
        """Raises ``NotACommunity`` unless the address holds this contract's code."""
        with rpc_errors(self.rpc_url):
            code = replies.code(self.w3, self.address)
        if not code:
            raise NotACommunity(f"no contract at {self.address} on chain {self.chain_id} ({self.rpc_url})")
        try:
            self.name()
            self.proposal_count()
        except (ContractLogicError, ValueError, GovernanceError) as exc:
            if isinstance(exc, ChainUnavailable):
                raise
            raise NotACommunity(f"the contract at {self.address} is not a kiez community") from None

    # ------------------------------------------------------------------ plumbing

    def _ctx(self, sender: str | None = None) -> RevertContext:
        now: int | None
        try:
            now = self.chain_time()
        except GovernanceError:
            now = None
        if sender is None:
            sender = self.account.address if self.account is not None else ""
        return RevertContext(community=self.address, sender=sender, chain_time=now)

    def _decode(self, exc: ContractLogicError, sender: str | None = None) -> GovernanceError:
        """The typed error of a revert; ``sender`` is who sent it when not this client's account
        (a browser wallet's)."""
        data = revert_data(exc)
        if not data and exc.message:
            return TransactionFailed(f"the transaction was refused: {exc.message}")
        return self._reverts.decode(data, self._ctx(sender))

    def _call(self, function: str, *args: Any) -> Any:
        with rpc_errors(self.rpc_url):
            try:
                return getattr(self._contract.functions, function)(*args).call()
            except ContractLogicError as exc:
                raise self._decode(exc) from None
            except BadFunctionCallOutput as exc:  # the answer is data, but not what the ABI says
                raise NotACommunity(f"the contract at {self.address} answered {function}() with {exc}") from None
            except Web3ValidationError:
                raise  # the arguments are wrong: a bug here, not the endpoint's
            except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # web3's formatters
                raise BadReply(f"the chain at {self.rpc_url} answered {function}() with a bad reply: {exc}") from None

    def _require_account(self) -> LocalAccount:
        if self.account is None:
            raise AccountError("this action sends a transaction: choose an account (--keystore or --dev-account)")
        return self.account

    def _transact(self, function: str, *args: Any) -> TxResult:
        """Simulates (to surface reverts as typed errors before paying), signs, sends, waits."""
        account = self._require_account()
        call = getattr(self._contract.functions, function)(*args)
        with rpc_errors(self.rpc_url):
            try:
                estimate = call.estimate_gas({"from": account.address})
            except ContractLogicError as exc:
                raise self._decode(exc) from None
            except Web3RPCError as exc:
                raise TransactionFailed(f"{function} was refused by the node: {exc.message}") from None
            tx = call.build_transaction(
                {
                    "from": account.address,
                    "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                    "gas": gas_limit(estimate),
                }
            )
            signed = account.sign_transaction(cast(Any, tx))
            try:
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as exc:
                if "insufficient funds" in str(exc.message):
                    raise TransactionFailed(
                        f"{account.address} has not enough ether on chain {self.chain_id} to pay for gas"
                    ) from None
                raise TransactionFailed(f"{function} was refused by the node: {exc.message}") from None
            try:
                receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
            except TimeExhausted:
                raise TransactionFailed(
                    f"transaction 0x{bytes(tx_hash).hex()} was sent but not mined within "
                    f"{self.receipt_timeout:.0f} s; check it later"
                ) from None
            if receipt["status"] != 1:
                raise self._explain_failure(call, account.address, receipt["blockNumber"])
        return self._result(receipt)

    def _result(self, receipt: Any) -> TxResult:
        return TxResult(
            tx_hash=bytes(receipt["transactionHash"]),
            block_number=receipt["blockNumber"],
            gas_used=receipt["gasUsed"],
            events=self.decoder.decode_all(cast(Any, receipt["logs"])),
        )

    def _explain_failure(self, call: Any, sender: str, block: int) -> GovernanceError:
        """A transaction that passed simulation failed when mined (the state or the time changed
        in between): replay it to recover the reason, first on the state before its block, then
        on the state of its block, whose timestamp is the one it was judged at (a vote mined just
        after the deadline passes the first replay and fails the second)."""
        for at in (block - 1, block):
            try:
                call.call({"from": sender}, block_identifier=at)
            except ContractLogicError as exc:
                return self._decode(exc, sender)
        return TransactionFailed(f"the transaction failed in block {block} (out of gas, or the state changed)")

    # ------------------------------------------------------------------ chain facts

    @property
    def chain_id(self) -> int:
        """The chain id as first reported (checked by who connects; ``chain_and_block`` asks anew)."""
        if self._chain_id is None:
            with rpc_errors(self.rpc_url):
                self._chain_id = replies.chain_id(self.w3)
        return self._chain_id

    def chain_time(self) -> int:
        """Timestamp of the latest block: the contract's clock."""
        return self.chain_and_block()[1].timestamp

    def head(self) -> int:
        with rpc_errors(self.rpc_url):
            return replies.head_number(self.w3)

    def block(self, number: int) -> BlockRef | None:
        """Block ``number`` as the endpoint reports it, checked; None where it has no such block."""
        with rpc_errors(self.rpc_url):
            return replies.block(self.w3, number)

    def chain_and_block(self, number: int | str = "latest") -> tuple[int, BlockRef]:
        """The chain id as the endpoint reports it now (never a remembered answer) and block
        ``number`` (default: the latest), in one round trip."""
        with rpc_errors(self.rpc_url):
            return replies.chain_and_block(self.w3, number)

    # ------------------------------------------------------------------ views

    def name(self) -> str:
        if self._name is None:
            self._name = str(self._call("name"))
        return self._name

    def ballot_domain(self) -> BallotDomain:
        return BallotDomain(self.name(), self.chain_id, self.address)

    def deployment_block(self) -> int:
        return int(self._call("deploymentBlock"))

    def rules(self) -> Rules:
        quorum, threshold, period = self._call("rules")
        return Rules(int(quorum), int(threshold), int(period))

    def media_policy(self) -> MediaPolicy:
        """The caps on attachments in force now (posts signed earlier were judged by the policy
        of their time: ``MediaPolicyChanged`` events tell when each took effect)."""
        max_attachments, max_attachment_kib = self._call("mediaPolicy")
        return MediaPolicy(int(max_attachments), int(max_attachment_kib))

    def guest_policy(self) -> GuestPolicy:
        """Who may invite guests and the longest pass, in force now."""
        inviters, seconds = self._call("guestPolicy")
        return GuestPolicy(int(inviters), int(seconds))

    def charter_hash(self) -> bytes:
        return bytes(self._call("charterHash"))

    def member_count(self) -> int:
        return int(self._call("memberCount"))

    def is_member(self, account: str) -> bool:
        return bool(self._call("isMember", checksum(account)))

    def member(self, account: str) -> MemberInfo:
        address = checksum(account)
        active, moderator, join_index, joined_at = self._call("memberInfo", address)
        return MemberInfo(address, bool(active), bool(moderator), int(join_index), int(joined_at))

    def members(self) -> list[MemberInfo]:
        """Current members in joining order (found through MemberAdded events)."""
        seen = {e.member for e in self.events(kinds=[MemberAdded]) if isinstance(e, MemberAdded)}
        infos = [self.member(a) for a in seen]
        return sorted((m for m in infos if m.active), key=lambda m: m.join_index)

    def is_moderator(self, account: str) -> bool:
        return bool(self._call("isModerator", checksum(account)))

    def nonce(self, account: str) -> int:
        return int(self._call("nonces", checksum(account)))

    def invitation_uses(self, invitation_id: bytes) -> tuple[int, bool]:
        """How often the invitation ``invitation_id`` was used, and whether it was revoked."""
        uses, revoked = self._call("invitationUses", bytes32(invitation_id, "invitation id"))
        return int(uses), bool(revoked)

    def key_info(self, key: bytes) -> KeyInfo:
        owner, active, added, revoked = self._call("keyInfo", bytes32(key, "app key"))
        return KeyInfo(AppKey(key), Address(owner), bool(active), int(added), int(revoked))

    def keys_of(self, owner: str) -> list[KeyInfo]:
        """Every app key ``owner`` ever registered, active or revoked."""
        from governance.events import KeyAdded  # noqa: PLC0415 - small, local use

        address = checksum(owner)
        keys = [e.key for e in self.events(kinds=[KeyAdded]) if isinstance(e, KeyAdded) and e.owner == address]
        return [self.key_info(k) for k in keys]

    def is_hidden(self, post_id: bytes) -> bool:
        return bool(self._call("isHidden", bytes32(post_id, "post id")))

    def join_request(self, applicant: str) -> JoinRequest | None:
        address = checksum(applicant)
        intro, at = self._call("joinRequest", address)
        return JoinRequest(address, bytes(intro), int(at)) if int(at) else None

    def join_requests(self) -> list[JoinRequest]:
        """Pending join requests, oldest first."""
        from governance.events import JoinRequested  # noqa: PLC0415

        applicants = {e.applicant for e in self.events(kinds=[JoinRequested]) if isinstance(e, JoinRequested)}
        pending = [r for r in (self.join_request(a) for a in applicants) if r is not None]
        return sorted(pending, key=lambda r: r.requested_at)

    def proposal_count(self) -> int:
        return int(self._call("proposalCount"))

    def _created(self, number: int) -> ProposalCreated:
        found = self._events_with_topic(ProposalNumbered, number.to_bytes(32, "big"), topic_position=1)
        numbered = [e for e in found if isinstance(e, ProposalNumbered)]
        created: list[ProposalCreated] = []
        if numbered:
            # Its IGovernor ProposalCreated is the log before it, in the same transaction.
            block = numbered[0].log.block_number
            pair = self.events(from_block=block, to_block=block, kinds=[ProposalCreated])
            created = [e for e in pair if isinstance(e, ProposalCreated) and e.number == number]
        if not created:
            count = self.proposal_count()
            raise NoSuchProposal(
                f"community {self.address} has no proposal {number} "
                + (f"(its proposals are numbered 1 to {count})" if count else "(it has none yet)")
            )
        return created[0]

    def proposal_id(self, number: int) -> ProposalId:
        """The id (hash) of proposal number ``number``."""
        return self._created(number).proposal_id

    def _combine(self, created: ProposalCreated) -> Proposal:
        raw = self._call("getProposal", created.proposal_id)
        return Proposal(
            id=created.proposal_id,
            number=ProposalNumber(int(raw[1])),
            kind=created.kind,
            state=ProposalState(int(raw[3])),
            subject=created.subject,
            proposer=created.proposer,
            description=created.description,
            vote_start=int(raw[4]),
            vote_end=int(raw[5]),
            against_votes=int(raw[6]),
            for_votes=int(raw[7]),
            abstain_votes=int(raw[8]),
            eligible_voters=int(raw[9]),
            quorum_pct=int(raw[10]),
            threshold_pct=int(raw[11]),
            calldata=created.calldata,
        )

    def proposal(self, number: int) -> Proposal:
        """Proposal number ``number``: its event joined with its current state."""
        return self._combine(self._created(number))

    def proposals(self, states: Sequence[ProposalState] | None = None) -> list[Proposal]:
        """All proposals (optionally only those in ``states``), newest first."""
        created = [e for e in self.events(kinds=[ProposalCreated]) if isinstance(e, ProposalCreated)]
        found = [self._combine(e) for e in reversed(created)]
        return [p for p in found if states is None or p.state in states]

    def votes(self, proposal_id: ProposalId) -> list[VoteCast]:
        """Every vote cast on a proposal, in order. IGovernor's VoteCast does not index the
        proposal id, so the logs are filtered by topic0 and the id is compared here."""
        found = self.events(kinds=[VoteCast])
        return [v for v in found if isinstance(v, VoteCast) and v.proposal_id == proposal_id]

    def state(self, proposal_id: ProposalId) -> ProposalState:
        return ProposalState(int(self._call("state", proposal_id)))

    def has_voted(self, proposal_id: ProposalId, account: str) -> bool:
        return bool(self._call("hasVoted", proposal_id, checksum(account)))

    def can_vote(self, proposal_id: ProposalId, account: str) -> bool:
        return bool(self._call("canVote", proposal_id, checksum(account)))

    # ------------------------------------------------------------------ events

    def _get_logs(self, topics: list[Any], from_block: int, to_block: int) -> list[Event]:
        """The contract's events in ``from_block..to_block``, each log checked (``replies``)."""
        out: list[Event] = []
        start = from_block
        with rpc_errors(self.rpc_url):
            while start <= to_block:
                end = min(start + LOG_RANGE - 1, to_block)
                out.extend(replies.events(self.w3, self.decoder, self.address, topics, start, end))
                start = end + 1
        return out

    def events(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        kinds: Sequence[type[Event]] | None = None,
    ) -> list[Event]:
        """Decoded events in chain order, fetched in bounded block ranges."""
        start = self.deployment_block() if from_block is None else from_block
        end = self.head() if to_block is None else to_block
        topic0: list[Any] = [None]
        if kinds is not None:
            topic0 = [[t for k in kinds for t in self.decoder.topics_of(k)]]
        return self._get_logs(topic0, start, end)

    def _events_with_topic(self, kind: type[Event], topic: bytes, topic_position: int) -> list[Event]:
        topics: list[Any] = [self.decoder.topic_of(kind)] + [None] * (topic_position - 1) + [topic]
        return self._get_logs(topics, self.deployment_block(), self.head())
