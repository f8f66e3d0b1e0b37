"""Following the community contract: events in, view and effects out, through any outage.

The watcher polls the chain (``eth_getLogs`` in bounded block ranges) up to ``head -
confirmations``, translates each event into the core's facts (``node.chain.facts``) and hands
each range to the store, which applies it idempotently (keyed by block
hash and log index) together with the cursor in one transaction. Web3 is synchronous (``AsyncWeb3``
does not run under trio), so every RPC call runs in a worker thread; store writes stay on the trio
thread. When the endpoint fails, the watcher backs off and says so in its status while the node
keeps serving its feed and gossip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import trio
from web3.exceptions import BlockNotFound

from governance.client import CommunityClient, rpc_errors
from governance.errors import GovernanceError
from node.chain.facts import fact_of, position_of
from node.core.view import CommunityView, Effect
from node.store import Store
from node.store.chain import ChainBatch, ChainEntry, Cursor

log = logging.getLogger(__name__)

#: How often "the view is complete until now" is written to the store while the chain is quiet
#: (between writes it advances in memory only: a write per poll would be an fsync per second).
PERSIST_COMPLETE_EVERY_S = 30.0


@dataclass(frozen=True)
class WatcherConfig:
    poll_interval: float = 1.0
    #: Blocks to wait before applying a block's events (0 on a local devnet; a few on real chains,
    #: so a short reorganisation never reaches the view).
    confirmations: int = 0
    #: Most blocks asked for in one eth_getLogs call (public endpoints refuse large ranges).
    max_range: int = 2000
    max_backoff: float = 30.0


@dataclass
class ChainStatus:
    """What ``kiez status`` reports about the chain."""

    head: int | None = None
    cursor: int | None = None
    healthy: bool = False
    last_error: str | None = None
    last_ok_monotonic: float | None = None
    events_applied: int = 0
    reorgs: int = 0

    @property
    def lag(self) -> int | None:
        if self.head is None or self.cursor is None:
            return None
        return max(0, self.head - self.cursor)

    def seconds_since_ok(self) -> float | None:
        if self.last_ok_monotonic is None:
            return None
        return time.monotonic() - self.last_ok_monotonic


@dataclass
class ChainWatcher:
    client: CommunityClient
    store: Store
    view: CommunityView
    config: WatcherConfig = field(default_factory=WatcherConfig)
    on_effects: Callable[[list[Effect]], None] = lambda effects: None
    status: ChainStatus = field(default_factory=ChainStatus)
    caught_up: trio.Event = field(default_factory=trio.Event)
    #: (number, hash) of the chain's latest block when the last poll found nothing to apply.
    _quiet_tip: tuple[int, bytes] | None = field(default=None, init=False)
    #: When "complete until now" was last written to the store (it is kept in memory between).
    _persisted_at: float = field(default=-1e9, init=False)

    async def run(self) -> None:
        """Polls forever; never raises for chain trouble, only reports it."""
        backoff = self.config.poll_interval
        while True:
            try:
                progressed = await self.poll_once()
            except GovernanceError as exc:
                self.status.healthy = False
                self.status.last_error = str(exc)
                log.warning("chain unavailable, retrying in %.1f s: %s", backoff, exc)
                await trio.sleep(backoff)
                backoff = min(backoff * 2, self.config.max_backoff)
                continue
            backoff = self.config.poll_interval
            if not progressed:
                await trio.sleep(self.config.poll_interval)

    async def poll_once(self) -> bool:
        """Applies the next range of confirmed blocks; returns whether there was one."""
        cursor = self.store.chain.cursor()
        tip = await trio.to_thread.run_sync(self._tip)
        head = tip[0]
        self.status.head = head
        if cursor is not None and tip == self._quiet_tip:
            # The latest block is the one the last quiet poll saw: its hash commits to every block
            # before it, so nothing was added and nothing reorganised. One request per poll, not
            # two (it matters on a public endpoint with a rate limit), and no reorg check.
            await self._mark_complete(cursor, head)
            return False
        target = head - self.config.confirmations
        if cursor is not None and await self._reorganised(cursor):
            # The blocks we applied are no longer the chain's. The contract's log is short, so
            # the view is rebuilt from the deployment block rather than unwound event by event.
            self.status.reorgs += 1
            log.warning("the chain no longer holds block %d as we saw it; rebuilding the view", cursor.block_number)
            self.store.chain.reset(self.view)
            cursor = None
        start = cursor.block_number + 1 if cursor else await trio.to_thread.run_sync(self.client.deployment_block)
        if start > target:
            await self._mark_complete(cursor, head)
            self._quiet_tip = tip
            return False
        self._quiet_tip = None
        end = min(target, start + self.config.max_range - 1)
        batch = await trio.to_thread.run_sync(self._fetch, start, end, head)
        effects = self.store.chain.apply(self.view, batch)
        self.status.cursor = end
        self.status.events_applied += len(batch.entries)
        self._healthy()
        if effects:
            self.on_effects(effects)
        if end >= target:
            self.caught_up.set()
        return end < target

    def _healthy(self) -> None:
        self.status.healthy = True
        self.status.last_error = None
        self.status.last_ok_monotonic = time.monotonic()

    async def _mark_complete(self, cursor: Cursor | None, head: int) -> None:
        """Nothing new to apply: the view is complete up to now (no block can hold an event
        older than the latest one, and the next block is not mined yet)."""
        self.status.cursor = cursor.block_number if cursor else None
        if cursor is not None and self.config.confirmations == 0 and cursor.block_number == head:
            now_ms = int(time.time() * 1000)
            if now_ms > self.view.chain_time_ms:
                if time.monotonic() - self._persisted_at < PERSIST_COMPLETE_EVERY_S:
                    self.view.advance(now_ms)  # in memory; a restart re-learns it at its first poll
                else:
                    batch = ChainBatch([], Cursor(cursor.block_number, cursor.block_hash, now_ms))
                    self.store.chain.apply(self.view, batch)
                    self._persisted_at = time.monotonic()
        self._healthy()
        self.caught_up.set()

    async def _reorganised(self, cursor: Cursor) -> bool:
        """Whether the block the cursor points at is gone or has another hash now."""
        block = await trio.to_thread.run_sync(self._block, cursor.block_number)
        return block is None or block[0] != cursor.block_hash

    def _tip(self) -> tuple[int, bytes]:
        """(number, hash) of the chain's latest block (runs in a worker thread)."""
        with rpc_errors(self.client.rpc_url):
            block = self.client.w3.eth.get_block("latest")
        return int(block["number"]), bytes(block["hash"])

    def _block(self, number: int) -> tuple[bytes, int] | None:
        """(hash, timestamp) of a block; None if the chain has no such block."""
        with rpc_errors(self.client.rpc_url):
            try:
                block = self.client.w3.eth.get_block(number)
            except BlockNotFound:
                return None
        return bytes(block["hash"]), int(block["timestamp"])

    def _fetch(self, start: int, end: int, head: int) -> ChainBatch:
        """The logs of blocks start..end as facts, with their block times (runs in a worker thread)."""
        events = self.client.events(from_block=start, to_block=end)
        times: dict[int, int] = {}
        for event in events:
            number = event.log.block_number
            if number not in times:
                block = self._block(number)
                if block is None:
                    raise GovernanceError(f"block {number} vanished while reading it")
                times[number] = block[1]
        last = self._block(end)
        if last is None:
            raise GovernanceError(f"block {end} vanished while reading it")
        complete_until = self._complete_until(end, head, last[1])
        entries = [ChainEntry(position_of(e), times[e.log.block_number], fact_of(e)) for e in events]
        return ChainBatch(entries, Cursor(end, last[0], complete_until))

    def _complete_until(self, end: int, head: int, end_time_s: int) -> int:
        """Every event in a block with a timestamp up to this (ms) is applied once ``end`` is."""
        if end < head:
            following = self._block(end + 1)
            if following is not None:
                return following[1] * 1000 - 1
            return end_time_s * 1000
        return max(end_time_s * 1000, int(time.time() * 1000))
