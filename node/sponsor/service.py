"""The sponsoring side of ``/kiez/sponsor/1.0.0``: pay for what newcomers signed, within budget.

A member turns it on with ``kiez sponsor enable``, which creates a dedicated account (the
``sponsor_key`` file, 0600) that the member funds with a little ether; the member's own voting
keystore is never unlocked for this. Before paying, the node simulates the call (the contract
checks both signatures, the inviter's membership and the invitation's expiry and uses, so a
refused request costs nothing) and checks the budget: transactions per UTC day and a gas price
ceiling. The count lives in ``sponsor_ledger.json`` beside the key, so a restart cannot reset
the day's budget; a damaged ledger stops sponsoring with a sentence instead of starting over.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio
from eth_account import Account
from eth_account.signers.local import LocalAccount

from governance.client import CommunityClient
from governance.errors import GovernanceError
from governance.invitations import SignedJoinRequest, SignedKeyAuthorisation
from governance.types import ProposalKind, ProposalState
from node.config import NodeConfig, read_secret, write_private
from node.core.sponsorbudget import SponsorBudget, SponsorLedger
from node.errors import ConfigError
from node.p2p import P2PHost, Stream, StreamFailed
from node.sponsor.protocol import (
    CLOSE_TIMEOUT_S,
    MAX_REQUEST_BYTES,
    PROTOCOL,
    SponsorError,
    SponsorReply,
    decode_request,
    read_one,
)

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 120.0  # a transaction is mined within it on any healthy chain
SPONSOR_KEY = "sponsor_key"
LEDGER = "sponsor_ledger.json"
NOT_SPONSORING = "this node does not sponsor newcomers' transactions; try another member's node"


def sponsor_account(config: NodeConfig) -> LocalAccount | None:
    """The node's sponsor account, or None if sponsoring was never enabled."""
    path = config.home / SPONSOR_KEY
    if not path.exists():
        return None
    account: LocalAccount = Account.from_key(read_secret(path, 32))
    return account


def load_ledger(config: NodeConfig) -> SponsorLedger:
    path = config.home / LEDGER
    if not path.exists():
        return SponsorLedger()
    try:
        return SponsorLedger.from_json(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}; fix or remove it (removing it resets today's count)") from None


def save_ledger(config: NodeConfig, ledger: SponsorLedger) -> None:
    path = config.home / LEDGER
    tmp = path.with_suffix(".tmp")
    write_private(tmp, json.dumps(ledger.to_json()).encode(), overwrite=True)
    os.replace(tmp, path)


@dataclass
class SponsorService:
    host: P2PHost
    config: NodeConfig
    connect: Callable[[LocalAccount], CommunityClient]
    refused: int = 0
    _ledger: SponsorLedger | None = None
    _account: LocalAccount | None = None
    _problem: str = ""
    _lock: trio.Lock = field(default_factory=trio.Lock)

    def register(self) -> None:
        if self.config.sponsor:
            try:
                self._account = sponsor_account(self.config)
                self._ledger = load_ledger(self.config)
                if self._account is None:
                    self._problem = "sponsor = true but there is no sponsor account: run `kiez sponsor enable`"
            except ConfigError as exc:
                self._problem = str(exc)
            if self._problem:
                log.warning("not sponsoring: %s", self._problem)
        self.host.set_stream_handler(PROTOCOL, self._serve)

    @property
    def budget(self) -> SponsorBudget:
        return SponsorBudget.from_gwei(self.config.sponsor_tx_per_day, self.config.sponsor_max_gas_gwei)

    def status(self) -> dict[str, Any]:
        if not self.config.sponsor:
            return {"enabled": False}
        out: dict[str, Any] = {
            "enabled": self._account is not None and not self._problem,
            "problem": self._problem,
            "account": self._account.address if self._account else None,
            "tx_per_day": self.config.sponsor_tx_per_day,
            "max_gas_gwei": self.config.sponsor_max_gas_gwei,
            "refused": self.refused,
        }
        if self._ledger is not None:
            out.update(self._ledger.as_dict(time.time()))
        return out

    async def _serve(self, stream: Stream) -> None:
        try:
            with trio.fail_after(REQUEST_TIMEOUT_S):
                try:
                    kind, payload = decode_request(await read_one(stream, MAX_REQUEST_BYTES))
                    reply = await self._answer(kind, payload)
                except SponsorError as exc:
                    reply = SponsorReply(False, str(exc))
                if not reply.ok:
                    self.refused += 1
                    log.info("sponsor request from %s refused: %s", stream.peer_id, reply.message)
                await stream.write_frame(reply.to_bytes())
        except (StreamFailed, trio.TooSlowError) as exc:
            log.info("sponsor request from %s ended: %s", stream.peer_id, exc)
        finally:
            await stream.close(CLOSE_TIMEOUT_S)

    async def _answer(self, kind: str, payload: bytes | int) -> SponsorReply:
        account, ledger = self._account, self._ledger
        if not self.config.sponsor or account is None or ledger is None or self._problem:
            return SponsorReply(False, NOT_SPONSORING)
        async with self._lock:  # one payment at a time: the account's nonce, the day's count
            return await trio.to_thread.run_sync(self._pay, account, ledger, kind, payload)

    def _pay(self, account: LocalAccount, ledger: SponsorLedger, kind: str, payload: bytes | int) -> SponsorReply:
        """Runs in a worker thread: checks the budget, submits, books the payment."""
        try:
            client = self.connect(account)
            gas_price = int(client.w3.eth.gas_price)
            refusal = ledger.refusal(self.budget, time.time(), gas_price)
            if refusal:
                return SponsorReply(False, refusal)
            proposal = 0
            if kind == "join":
                assert isinstance(payload, bytes)
                created, result = client.request_to_join_by_sig(SignedJoinRequest.from_bytes(payload))
                proposal = created.number
            elif kind == "key":
                assert isinstance(payload, bytes)
                result = client.add_key_by_sig(SignedKeyAuthorisation.from_bytes(payload))
            else:
                assert isinstance(payload, int)
                target = client.proposal(payload)
                if target.kind != ProposalKind.ADD_MEMBER or target.state != ProposalState.SUCCEEDED:
                    return SponsorReply(
                        False, f"proposal #{payload} is not an admission that passed and awaits execution"
                    )
                result = client.execute(target)
                proposal = payload
        except GovernanceError as exc:
            return SponsorReply(False, str(exc))
        tx = "0x" + result.tx_hash.hex()
        ledger.record(time.time(), kind, tx, result.gas_used, gas_price)
        save_ledger(self.config, ledger)
        log.info("sponsored %s: %s, %d gas", kind, tx, result.gas_used)
        return SponsorReply(True, f"submitted {kind} in block {result.block_number}", tx, proposal)
