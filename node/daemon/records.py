"""This node's own peer record: published at start, when its addresses change, before it expires.

The addresses come from *sources*, plain callables (the listen addresses, ``config.announce``,
later the relay client's circuit addresses), read afresh each time, so the publisher needs to
know nothing about where they come from; whoever knows they changed calls ``changed()`` and the
record is republished at once. A record lives ``ttl_ms`` (a day) and is renewed at half-life, so a
node that stays up is always findable and one that went away drops out of address books within
a day. Until the node's member and app key are active in its view (on a guest's node: until a
pass for its key has arrived), publishing is refused (``PublishError``) and retried; once the
member has erased themselves, or while none of a guest's passes runs, nothing is published.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import trio

from node.core import peers
from node.core.types import Kind, Message, PeerBody
from node.daemon.service import NodeService
from node.errors import PublishError
from node.p2p.addresses import record_addrs

log = logging.getLogger(__name__)

AddressSource = Callable[[], Iterable[str]]
RECORD_TTL_MS = 24 * 3600 * 1000
#: How often the sources are read again without a ``changed()`` (interfaces come and go).
RECHECK_S = 30.0
#: How soon publishing is retried while the node's key is not active yet.
RETRY_S = 2.0


@dataclass
class RecordPublisher:
    service: NodeService
    p2p_seed: bytes
    peer_id: str  # base58, to cut /p2p/<own id> from the sources' addresses
    sources: list[AddressSource]
    broadcast: Callable[[bytes], Awaitable[None]]
    ttl_ms: int = RECORD_TTL_MS
    published: int = 0
    _wake: trio.Event = field(default_factory=trio.Event)
    _current: Message | None = None

    def changed(self) -> None:
        """The addresses changed: republish now (safe to call from any task of the node's loop)."""
        self._wake.set()

    def addrs(self) -> tuple[bytes, ...]:
        """What the record would list now."""
        texts: list[str] = []
        for source in self.sources:
            try:
                texts.extend(source())
            except Exception:  # one broken source must not stop the others being advertised
                log.exception("an address source failed; advertising the others")
        return record_addrs(texts, self.peer_id)

    def forgotten(self) -> bool:
        """Whether this node's member has erased themselves (``kiez forget-me``): a record
        published after the erase would outlive it in every address book."""
        member = self.service.view.owner_of(self.service.signer.public_key)
        return member is not None and self.service.store.messages.erased_until(member) is not None

    def idle_guest(self) -> bool:
        """Whether this is a guest's node (its key no member's, a pass for it stored) with no pass
        running now: a guest's record is valid only while one runs."""
        key, now = self.service.signer.public_key, self.service.now_ms()
        passes = self.service.store.guest_passes(key)
        return self.service.view.owner_of(key) is None and bool(passes) and not any(p.covers(now) for p in passes)

    def due(self, addrs: tuple[bytes, ...]) -> bool:
        """Whether a new record is needed: none yet, other addresses, or past half its life."""
        current = self._current
        if current is None:
            return bool(addrs)
        assert isinstance(current.body, PeerBody)
        half_life = current.timestamp_ms + (current.body.expires_ms - current.timestamp_ms) // 2
        return (addrs != current.body.addrs and bool(addrs)) or self.service.now_ms() >= half_life

    def publish(self, addrs: tuple[bytes, ...]) -> Message:
        """Signs, stores and returns a record for ``addrs`` (``PublishError`` if refused)."""
        expires = self.service.now_ms() + self.ttl_ms
        peer_id, binding = peers.sign_binding(
            self.p2p_seed, self.service.community, self.service.signer.public_key, expires
        )
        message = self.service.publish(Kind.PEER, PeerBody(peer_id, addrs, expires, binding))
        self._current = message
        self.published += 1
        return message

    async def run(self) -> None:
        """Keeps the record current until cancelled; prunes expired records of others as it goes."""
        while True:
            delay = RECHECK_S
            addrs = self.addrs()
            if self.forgotten() or self.idle_guest():
                # the member asked every node to forget them: stay out of address books (or a
                # guest's passes ended)
                delay = RECHECK_S
            elif self.due(addrs):
                try:
                    message = self.publish(addrs)
                except PublishError as exc:
                    log.debug("%s: peer record not published yet: %s", self.service.name, exc)
                    delay = RETRY_S
                else:
                    log.info("%s: published its peer record (%d addresses)", self.service.name, len(addrs))
                    await self.broadcast(message.envelope)
            self.service.store.peers.prune_expired(self.service.now_ms())
            with trio.move_on_after(delay):
                await self._wake.wait()
            self._wake = trio.Event()
