"""Following the community contract: events in, view and effects out, through any outage.

The watcher polls the chain (``eth_getLogs`` in bounded block ranges) up to ``head -
confirmations``, translates each event into the core's facts (``node.chain.facts``) and hands
each range to the store, which applies it idempotently (keyed by block
hash and log index) together with the cursor in one transaction. Web3 is synchronous (``AsyncWeb3``
does not run under trio), so every RPC call runs in a worker thread; store writes stay on the trio
thread. When the endpoint fails, the watcher backs off and says so in its status while the node
keeps serving its feed and gossip.

The endpoint is not trusted (``node.chain.trust``, ``governance.replies``): every poll asks for
the chain id together with the latest block, in one batch no cache serves, and reads nothing
while the id is not the community's; every field used is checked; a range is applied only if
each log names the block the endpoint reports at its number; a reply too large to read halves
the range asked for. Whatever is wrong is a sentence in ``kiez status`` (``last_error``), and
nothing of a bad answer reaches the view or moves the cursor.

Reorganisations. Blocks ``confirmations`` deep are final to the node, so a reorganisation that
replaces a block the view applied is deeper than the confirmations. With no confirmations (a
devnet, which trusts its tip and expects reorgs) the view is rebuilt from the deployment block
at once. With confirmations, such a reorganisation is what they were chosen to rule out: the
endpoint may be broken or lying, and rebuilding would wipe members, keys and hides on its word.
The watcher then stops following, keeps the view it has (validation goes on using it) and says
so; it resumes by itself when the endpoint serves the applied block again, and a restart accepts
the chain as it is then (the first check after start rebuilds the view, as without
confirmations). A block the view applied that the endpoint does not know at all is not a
reorganisation but an endpoint behind or on another chain: the watcher waits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from governance.client import CommunityClient
from governance.errors import GovernanceError, ReplyTooLarge
from governance.replies import BlockRef
from node.chain import trust
from node.chain.facts import fact_of, position_of
from node.chain.trust import ChainDistrusted
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
    #: Called after each applied batch that held events, with the effects they had (maybe none).
    on_effects: Callable[[list[Effect]], None] = lambda effects: None
    status: ChainStatus = field(default_factory=ChainStatus)
    caught_up: trio.Event = field(default_factory=trio.Event)
    #: The chain's latest block when the last poll found nothing to apply.
    _quiet_tip: BlockRef | None = field(default=None, init=False)
    #: When "complete until now" was last written to the store (it is kept in memory between).
    _persisted_at: float = field(default=-1e9, init=False)
    #: Blocks asked for in one eth_getLogs call: ``max_range``, halved after each reply too large.
    _range: int = field(default=0, init=False)
    #: Whether the cursor's block was found on the chain since start (see the module's docstring).
    _followed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._range = self.config.max_range

    async def run(self) -> None:
        """Polls forever; never raises for chain trouble, only reports it."""
        backoff = self.config.poll_interval
        while True:
            try:
                progressed = await self.poll_once()
            except (GovernanceError, ChainDistrusted) as exc:
                self.status.healthy = False
                self.status.last_error = str(exc)
                log.warning("chain not followed, retrying in %.1f s: %s", backoff, exc)
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
        head = tip.number
        self.status.head = head
        if cursor is not None and tip == self._quiet_tip:
            # The latest block is the one the last quiet poll saw: its hash commits to every block
            # before it, so nothing was added and nothing reorganised. One request per poll, not
            # two (it matters on a public endpoint with a rate limit), and no reorg check.
            await self._mark_complete(cursor, head)
            return False
        target = head - self.config.confirmations
        if cursor is not None:
            cursor = await self._still_there(cursor)
        start = cursor.block_number + 1 if cursor else await trio.to_thread.run_sync(self.client.deployment_block)
        if start > target:
            await self._mark_complete(cursor, head)
            self._quiet_tip = tip
            return False
        self._quiet_tip = None
        end = min(target, start + self._range - 1)
        try:
            batch = await trio.to_thread.run_sync(self._fetch, start, end, head)
        except ReplyTooLarge as exc:
            if end == start:
                raise
            self._range = (end - start + 1) // 2
            raise ReplyTooLarge(f"{exc}; asking for {self._range} blocks at a time from now on") from None
        effects = self.store.chain.apply(self.view, batch)
        self.status.cursor = end
        self.status.events_applied += len(batch.entries)
        self._healthy()
        if effects or batch.entries:
            self.on_effects(effects)
        if end >= target:
            self.caught_up.set()
        return end < target

    async def _still_there(self, cursor: Cursor) -> Cursor | None:
        """``cursor`` if the chain still holds its block; None once the view was reset after a
        reorganisation; ``ChainDistrusted`` where the watcher must wait (module's docstring)."""
        block = await trio.to_thread.run_sync(self.client.block, cursor.block_number)
        if block is None:
            raise trust.missing_block(cursor.block_number)
        if block.hash == cursor.block_hash:
            self._followed = True
            return cursor
        if self.config.confirmations > 0 and self._followed:
            raise trust.deep_reorg(cursor.block_number, cursor.block_hash, block.hash, self.config.confirmations)
        # The blocks we applied are no longer the chain's. The contract's log is short, so the
        # view is rebuilt from the deployment block rather than unwound event by event.
        self.status.reorgs += 1
        log.warning("the chain no longer holds block %d as we saw it; rebuilding the view", cursor.block_number)
        self.store.chain.reset(self.view)
        self._followed = True
        return None

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

    def _tip(self) -> BlockRef:
        """The chain's latest block, once the endpoint reported the community's chain id with it
        (runs in a worker thread). The community's chain id is the client's first answer, which
        the node checked against its configuration at start-up."""
        reported, tip = self.client.chain_and_block("latest")
        trust.check_chain_id(reported, self.client.chain_id)
        return tip

    def _block(self, number: int) -> BlockRef:
        block = self.client.block(number)
        if block is None:
            raise GovernanceError(f"block {number} vanished while reading it")
        return block

    def _fetch(self, start: int, end: int, head: int) -> ChainBatch:
        """The logs of blocks start..end as facts, with their block times, once they match the
        blocks and the chain id still is the community's (runs in a worker thread)."""
        events = self.client.events(from_block=start, to_block=end)
        blocks: dict[int, BlockRef] = {}
        for event in events:
            number = event.log.block_number
            if number not in blocks:
                blocks[number] = self._block(number)
        trust.check_logs_match(events, blocks)
        reported, last = self.client.chain_and_block(end)
        trust.check_chain_id(reported, self.client.chain_id)
        complete_until = self._complete_until(end, head, last.timestamp)
        entries = [ChainEntry(position_of(e), blocks[e.log.block_number].timestamp, fact_of(e)) for e in events]
        return ChainBatch(entries, Cursor(end, last.hash, complete_until))

    def _complete_until(self, end: int, head: int, end_time_s: int) -> int:
        """Every event in a block with a timestamp up to this (ms) is applied once ``end`` is."""
        if end < head:
            following = self.client.block(end + 1)
            if following is not None:
                return following.timestamp * 1000 - 1
            return end_time_s * 1000
        return max(end_time_s * 1000, int(time.time() * 1000))
