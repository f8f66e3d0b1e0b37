"""A typed client of one Community contract, over any EVM JSON-RPC endpoint.

Everything a member, voter or tool does goes through ``CommunityClient``: reading members, keys,
proposals and events, and sending signed transactions. It uses the synchronous ``Web3`` (the node
runs it in a worker thread under trio, where ``AsyncWeb3`` does not work) and signs locally with
eth-account, so no key ever reaches the endpoint.

Failures come back as ``governance.errors`` types: a revert is decoded to the class named after
the contract's custom error; an unreachable endpoint is ``ChainUnavailable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

from governance import calls
from governance.artifacts import community_artifact
from governance.ballot import SignedBallot, sign_ballot
from governance.calls import ContractCall, PreparedCall
from governance.errors import (
    BallotError,
    InvalidArgument,
    TransactionFailed,
)
from governance.events import ProposalCreated
from governance.invitations import Invitation, SignedJoinRequest, SignedKeyAuthorisation
from governance.reader import CommunityReader
from governance.reverts import RevertDecoder
from governance.rpc import (
    DEFAULT_RPC_URL,
    TxResult,
    bytes32,
    checksum,
    connect_web3,
    gas_limit,
    revert_data,
    rpc_errors,
)
from governance.types import (
    Address,
    GuestPolicy,
    MediaPolicy,
    Proposal,
    ProposalId,
    ProposalKind,
    Rules,
    Support,
)

__all__ = [
    "DEFAULT_RPC_URL",
    "CommunityClient",
    "TxResult",
    "checksum",
    "connect_web3",
    "deploy_community",
    "rpc_errors",
]

_ZERO32 = bytes(32)


class CommunityClient(CommunityReader):
    """One community on one chain, acting as one account: everything ``CommunityReader`` reads,
    and the transactions a member, voter or tool sends."""

    # ------------------------------------------------------------------ membership and keys

    def request_to_join(self, intro_hash: bytes) -> TxResult:
        return self._transact("requestToJoin", bytes32(intro_hash, "intro hash"))

    def withdraw_join_request(self) -> TxResult:
        return self._transact("withdrawJoinRequest")

    def leave(self) -> TxResult:
        return self._transact("leaveCommunity")

    def add_key(self, key: bytes) -> TxResult:
        return self._transact("addKey", bytes32(key, "app key"))

    def revoke_key(self, key: bytes) -> TxResult:
        return self._transact("revokeKey", bytes32(key, "app key"))

    # ------------------------------------------------------------------ gasless onboarding

    def request_to_join_by_sig(self, signed: SignedJoinRequest) -> tuple[ProposalCreated, TxResult]:
        """Relays (and pays for) a newcomer's signed join request: the contract checks both
        signatures and the invitation, and opens the AddMember proposal in the inviter's name."""
        inv = signed.invitation
        return self._propose(
            ContractCall(
                "requestToJoinBySig",
                (
                    checksum(signed.applicant),
                    bytes32(signed.intro_hash, "intro hash"),
                    inv.invitation.as_tuple(),
                    inv.signature,
                    signed.deadline,
                    signed.signature,
                ),
            )
        )

    def add_key_by_sig(self, signed: SignedKeyAuthorisation) -> TxResult:
        """Relays (and pays for) a member's signed app-key authorisation."""
        return self._transact(
            "addKeyBySig", checksum(signed.owner), bytes32(signed.key, "app key"), signed.deadline, signed.signature
        )

    def revoke_invitation(self, invitation: Invitation) -> TxResult:
        """Revokes one of this account's invitations: it admits no further join requests."""
        return self._transact("revokeInvitation", invitation.as_tuple())

    def moderator_hide(self, post_id: bytes, reason: str) -> TxResult:
        return self._transact("moderatorHide", bytes32(post_id, "post id"), reason)

    # ------------------------------------------------------------------ proposals

    def send(self, call: ContractCall) -> TxResult:
        """Signs ``call`` with this client's account, sends it and waits for its receipt."""
        return self._transact(call.function, *call.bound(self.address))

    def _propose(self, call: ContractCall) -> tuple[ProposalCreated, TxResult]:
        result = self.send(self._unique(call))
        return result.first(ProposalCreated), result

    def _unique(self, call: ContractCall) -> ContractCall:
        """``call`` itself, or, if an identical proposal (same call, same description) exists,
        the same with the next proposal number added to its description: as in OpenZeppelin, a
        proposal's id is the hash of what it says, so saying it twice needs a different text."""
        if call.function != "propose":
            return call
        _, values, datas, description = call.bound(self.address)
        if not int(self._call("proposalSnapshot", self.hash_proposal(datas[0], description))):
            return call
        renamed = f"{description} (proposal {self.proposal_count() + 1})"
        return ContractCall(call.function, (call.args[0], values, datas, renamed))

    def hash_proposal(self, data: bytes, description: str) -> ProposalId:
        """The id IGovernor's hashProposal gives the proposal of ``data`` with ``description``."""
        encoded = abi_encode(
            ["address[]", "uint256[]", "bytes[]", "bytes32"], [[self.address], [0], [data], keccak(text=description)]
        )
        return ProposalId(int.from_bytes(keccak(encoded), "big"))

    def propose_add_member(self, account: str, description: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.propose_about(ProposalKind.ADD_MEMBER, account, description))

    def propose_remove_member(self, account: str, description: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.propose_about(ProposalKind.REMOVE_MEMBER, account, description))

    def propose_hide_post(self, post_id: bytes, reason: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.propose_about(ProposalKind.HIDE_POST, post_id, reason))

    def propose_unhide_post(self, post_id: bytes, reason: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.propose_about(ProposalKind.UNHIDE_POST, post_id, reason))

    def propose_change_rules(self, rules: Rules, description: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.change_rules(rules, description))

    def propose_set_media_policy(self, policy: MediaPolicy, description: str = "") -> tuple[ProposalCreated, TxResult]:
        """Proposes new caps on attachments. Out-of-range values are refused here, in words,
        before any gas is spent (the contract refuses them too, as ``InvalidMediaPolicy``)."""
        return self._propose(calls.set_media_policy(policy, description))

    def propose_set_charter(self, charter_hash: bytes, description: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.set_charter(charter_hash, description))

    def propose_set_guest_policy(self, policy: GuestPolicy, description: str = "") -> tuple[ProposalCreated, TxResult]:
        """Proposes who may invite guests and how long a guest pass may last."""
        return self._propose(calls.set_guest_policy(policy, description))

    def propose_grant_moderator(self, account: str, description: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.propose_about(ProposalKind.GRANT_MODERATOR, account, description))

    def propose_revoke_moderator(self, account: str, description: str = "") -> tuple[ProposalCreated, TxResult]:
        return self._propose(calls.propose_about(ProposalKind.REVOKE_MODERATOR, account, description))

    # ------------------------------------------------------------------ voting

    def cast_vote(self, proposal_id: ProposalId, support: Support, reason: str = "") -> TxResult:
        return self.send(calls.cast_vote(proposal_id, support, reason))

    def sign_ballot(self, proposal_id: ProposalId, support: Support) -> SignedBallot:
        """Signs this account's vote for someone else to relay (uses the current nonce)."""
        account = self._require_account()
        self.state(proposal_id)  # fails early with GovernorNonexistentProposal
        return sign_ballot(account, self.ballot_domain(), proposal_id, support, self.nonce(account.address))

    def relay_ballot(self, ballot: SignedBallot) -> TxResult:
        """Submits someone's signed ballot; checks locally first that it fits this community."""
        if ballot.chain_id != self.chain_id:
            raise BallotError(f"the ballot is for chain {ballot.chain_id}, but this chain is {self.chain_id}")
        if ballot.community != self.address:
            raise BallotError(f"the ballot is for community {ballot.community}, not {self.address}")
        if ballot.signer() != ballot.voter:
            raise BallotError(f"the ballot's signature is not {ballot.voter}'s")
        return self._transact("castVoteBySig", ballot.proposal_id, int(ballot.support), ballot.voter, ballot.signature)

    def cast_vote_by_sig_raw(self, proposal_id: ProposalId, support: int, voter: str, signature: bytes) -> TxResult:
        """castVoteBySig with arbitrary inputs and no local checks (for tools and tests of the
        contract's own checks)."""
        return self._transact("castVoteBySig", proposal_id, support, checksum(voter), signature)

    def execute(self, proposal: Proposal | ProposalCreated) -> TxResult:
        """Executes a proposal that succeeded (its call and description come from its creation
        event)."""
        return self.send(calls.execute(proposal.calldata, proposal.description))

    # ------------------------------------------------------------------ browser wallets

    def prepare(self, call: ContractCall, sender: str) -> PreparedCall:
        """``call`` as an unsigned transaction from ``sender``, for a browser wallet to sign and
        send. It is simulated first, so a revert is the same typed error a local signer gets."""
        who = checksum(sender)
        args = call.bound(self.address)
        function = getattr(self._contract.functions, call.function)(*args)
        with rpc_errors(self.rpc_url):
            try:
                estimate = function.estimate_gas({"from": who})
            except ContractLogicError as exc:
                raise self._decode(exc, who) from None
            except Web3RPCError as exc:
                raise TransactionFailed(f"{call.function} was refused by the node: {exc.message}") from None
        data = self._contract.encode_abi(call.function, args=list(args))
        return PreparedCall(
            sender=who,
            to=self.address,
            data=str(data),
            chain_id=self.chain_id,
            gas=gas_limit(estimate),
            function=call.function,
        )

    def outcome(self, tx_hash: bytes) -> TxResult | None:
        """What became of a transaction a wallet sent to this community: None while it is not
        mined, its result once it is, and the contract's reason, raised, if it failed."""
        with rpc_errors(self.rpc_url):
            try:
                receipt = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                return None
            if receipt["to"] is None or checksum(str(receipt["to"])) != self.address:
                raise InvalidArgument(f"transaction 0x{tx_hash.hex()} was not sent to this community")
            if receipt["status"] != 1:
                sent = self.w3.eth.get_transaction(HexBytes(tx_hash))
                function, arguments = self._contract.decode_function_input(sent["input"])
                raise self._explain_failure(function(**arguments), str(sent["from"]), receipt["blockNumber"])
        return self._result(receipt)

    def execute_raw(self, data: bytes, description: str) -> TxResult:
        """execute() of an arbitrary call and description (for tools and tests of the contract's
        checks)."""
        return self.send(calls.execute(data, description))


#: OpenZeppelin's EIP712 keeps the domain name as a short string: longer names revert the deployment.
MAX_NAME_BYTES = 31


def deploy_community(
    w3: Web3,
    account: LocalAccount,
    name: str,
    founders: Sequence[str],
    *,
    rules: Rules,
    charter_hash: bytes = _ZERO32,
    receipt_timeout: float = 120.0,
) -> CommunityClient:
    """Deploys a new community and returns a client acting as the deployer."""
    problems = rules.problems()
    if problems:
        raise InvalidArgument("; ".join(problems))
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidArgument(
            f"a community's name is at most {MAX_NAME_BYTES} bytes of UTF-8 (it names the EIP-712 signing "
            f"domain); {name!r} has {len(name.encode())}"
        )
    if not founders:
        raise InvalidArgument("a community needs at least one founding member")
    artifact = community_artifact()
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    constructor = factory.constructor(
        name,
        [checksum(f) for f in founders],
        rules.quorum_pct,
        rules.threshold_pct,
        rules.voting_period,
        bytes32(charter_hash, "charter hash"),
    )
    rpc_url = str(getattr(w3.provider, "endpoint_uri", "the chain"))
    decoder = RevertDecoder(artifact.abi)
    with rpc_errors(rpc_url):
        try:
            gas = constructor.estimate_gas({"from": account.address})
        except ContractLogicError as exc:
            raise decoder.decode(revert_data(exc)) from None
        tx = constructor.build_transaction(
            {
                "from": account.address,
                "nonce": w3.eth.get_transaction_count(account.address, "pending"),
                "gas": gas * 5 // 4,
            }
        )
        signed = account.sign_transaction(cast(Any, tx))
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=receipt_timeout)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise TransactionFailed(f"deploying the community failed in block {receipt['blockNumber']}")
    return CommunityClient(w3, Address(receipt["contractAddress"]), account, receipt_timeout=receipt_timeout)
