"""The node's composition: where validation, the store and the counters meet.

``NodeService`` has no network of its own: gossip calls ``ingest`` for every message it
receives (inside the gossipsub validator, so a message is stored before it is forwarded), the
API calls ``publish`` for the member's own messages, and the chain watcher reports effects. Every
refusal is counted by reason and logged with the peer and message id, so ``kiez status`` can show
what a node refused and why.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from node.core import signing
from node.core.guests import GUEST_KINDS, guest_author, is_guest
from node.core.ratelimit import RateLimiter
from node.core.signing import Signer
from node.core.types import Body, Community, Kind, Message
from node.core.validation import Context, Via, conclude, parse, screen, validate
from node.core.verdict import Outcome, Reason, Verdict, reject
from node.core.view import CommunityView, Effect, KeyRevokedEffect, MemberGoneEffect, PostHiddenEffect
from node.daemon.changes import Changes
from node.errors import PublishError
from node.store import Store
from node.store.messages import BatchKnown
from node.store.peers import PeerRecord

log = logging.getLogger(__name__)

#: Envelopes decoded and screened before their signatures go to the verifier threads.
VERIFY_SLICE = 128
#: Slices being checked while the oldest is stored.
VERIFY_AHEAD = 1


@dataclass(frozen=True)
class BatchOutcome:
    """What ``ingest_batch`` did with a batch: how many were new, how many signatures it verified,
    and the REJECTs by reason (sync books them against the peer that sent the batch)."""

    added: int
    verified: int
    rejected: Counter[str]


@dataclass
class _Slice:
    """A slice of a batch, screened, its signatures being checked on the verifier threads."""

    parsed: list[Message | Verdict]
    screened: list[str | Verdict]  # the author if the message passed the checks before the signature
    known: BatchKnown
    signatures: list[Future[list[bool]]]  # its halves, one per verifier thread
    verified: int = 0


@dataclass
class Counters:
    accepted: int = 0
    published: int = 0
    #: Copies of messages already stored: normal in gossip (every peer forwards), not a refusal.
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    hidden_by_chain: int = 0
    #: Messages first IGNOREd because our chain view was behind, found invalid once it caught up
    #: (by reason); their forwarders were blamed then (see ``UnknownKeyWatch``).
    late_rejects: Counter[str] = field(default_factory=Counter)
    #: Messages refused per member for posting beyond the rate limit or a room's slow mode.
    throttled: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "published": self.published,
            "duplicates": self.duplicates,
            "refused": dict(sorted(self.refused.items())),
            "late_rejects": dict(sorted(self.late_rejects.items())),
            "hidden_by_chain": self.hidden_by_chain,
            "throttled": dict(self.throttled.most_common(20)),
        }


@dataclass
class UnknownKeyWatch:
    """Fresh gossip from unknown app keys, remembered until the chain view can judge it.

    A post from a key this node does not know is IGNOREd (``chain_view_behind``) while it is newer
    than everything our view of the chain has applied: the key may sit in a block we have not seen
    yet, and a REJECT would punish an honest peer for our lag. Left at that, a flood from made-up
    keys would cost its sender nothing. So for each such message we keep (timestamp, forwarder,
    key), and once the view has applied everything up to the message's time
    (``view.chain_time_ms``) we decide as validation would for the same message arriving then: a key
    still unknown is ``unknown_key``, a REJECT, and the forwarder is blamed for it. A key that
    appeared in the meantime blames nobody. An honest peer only relays what it accepted, so it
    knew the key; it is blamed only if its view held a block ours never will (a reorg).

    Bounded: at most ``per_peer`` entries per forwarder and ``capacity`` in all; beyond that new
    ones are dropped and counted, which loses blame, never a message.
    """

    capacity: int = 4096
    per_peer: int = 64
    dropped: int = 0
    _heap: list[tuple[int, str, bytes]] = field(default_factory=list)  # (timestamp_ms, peer, key)
    _pending: Counter[str] = field(default_factory=Counter)

    def note(self, peer: str, key: bytes, timestamp_ms: int) -> None:
        if len(self._heap) >= self.capacity or self._pending[peer] >= self.per_peer:
            self.dropped += 1
            return
        heapq.heappush(self._heap, (timestamp_ms, peer, key))
        self._pending[peer] += 1

    def settle(self, view: CommunityView, is_guest: Callable[[bytes], bool] = lambda _: False) -> list[str]:
        """The forwarders to blame, once per message whose time the view now covers while its key is
        still unknown (neither a member's nor, by ``is_guest``, a guest's with a pass stored); those
        messages are forgotten, like the ones whose key did appear."""
        blamed = []
        while self._heap and self._heap[0][0] <= view.chain_time_ms:
            _, peer, key = heapq.heappop(self._heap)
            self._pending[peer] -= 1
            if self._pending[peer] <= 0:
                del self._pending[peer]
            if key not in view.keys and not is_guest(key):
                blamed.append(peer)
        return blamed

    def __len__(self) -> int:
        return len(self._heap)


@dataclass
class NodeService:
    store: Store
    view: CommunityView
    signer: Signer
    community: Community
    name: str = "node"
    clock: Callable[[], float] = time.time
    limiter: RateLimiter = field(default_factory=RateLimiter)
    counters: Counters = field(default_factory=Counters)
    #: Bumped whenever something a page shows may have changed (``GET /v1/stream``).
    changes: Changes = field(default_factory=Changes)
    unknown_keys: UnknownKeyWatch = field(default_factory=UnknownKeyWatch)
    _verifier: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2, "verify"))

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def author_of(self, message: Message) -> str:
        """Who wrote ``message`` as the store keeps it: the member owning its key, or else (an
        accepted message of a key no member owns) the guest's ``guest:<key hex>``."""
        return self.view.owner_of(message.author) or guest_author(message.author)

    def ingest(self, envelope: bytes, via: Via, peer: str = "") -> Verdict:
        """Validates a message and, if accepted, commits it before returning."""
        verdict = validate(envelope, Context(self.community, self.now_ms(), via), self.view, self.store, self.limiter)
        if verdict.accepted:
            message = verdict.message
            assert message is not None
            author = self.author_of(message)
            # Only what this node's own member publishes must survive a power cut before it is
            # acknowledged; a message from a peer that a power cut loses is simply synced again
            # (its peers hold it), so it skips the fsync (it still survives a crashed process).
            if self.store.messages.add(message, author, self.now_ms(), durable=via is Via.LOCAL):
                self.counters.accepted += 1
                self.changes.bump()
            return verdict
        self._count_refusal(verdict, via, peer)
        if verdict.reason is Reason.CHAIN_VIEW_BEHIND and via is Via.GOSSIP and peer and verdict.message is not None:
            self.unknown_keys.note(peer, verdict.message.author, verdict.message.timestamp_ms)
        return verdict

    def settle_unknown_keys(self) -> list[str]:
        """Peers to blame for posts from unknown keys that were IGNOREd while our chain view was
        behind and that the view, having caught up, now refuses (one entry per post); the gossip
        layer books each as a REJECT of that peer. Call it whenever the view may have advanced."""
        blamed = self.unknown_keys.settle(self.view, lambda key: bool(self.store.guest_passes(key)))
        if blamed:
            self.counters.late_rejects[Reason.UNKNOWN_KEY.value] += len(blamed)
            log.info(
                "%s: %d gossiped message(s) from unknown app keys, ignored while the chain view was behind, "
                "are unknown_key now; blaming %s",
                self.name,
                len(blamed),
                ", ".join(sorted(set(blamed))),
            )
        return blamed

    def _count_refusal(self, verdict: Verdict, via: Via, peer: str) -> None:
        if verdict.reason is Reason.DUPLICATE:
            self.counters.duplicates += 1
            return
        reason = verdict.reason.value if verdict.reason else "unknown"
        self.counters.refused[reason] += 1
        if verdict.reason is Reason.RATE_LIMITED and verdict.message is not None:
            self.counters.throttled[self.author_of(verdict.message)] += 1
        level = logging.DEBUG if verdict.outcome is Outcome.IGNORE else logging.INFO
        message_id = verdict.message.id.hex()[:16] if verdict.message else "-"
        log.log(level, "%s: refused %s message %s from %s: %s", self.name, via.value, message_id, peer or "-", verdict)

    def ingest_batch(self, envelopes: list[bytes], via: Via, peer: str = "") -> BatchOutcome:
        """Validates each envelope (as ``ingest`` does) and stores the accepted ones in one
        transaction. For sync, where messages come by the thousand.

        The checks before the signature come first (spec section 5: community, duplicate, time,
        key, membership), as ``validate`` orders them, and their refusals are final: only the
        survivors are verified (and no rate token is spent before). libsodium releases the
        interpreter lock, so the batch goes in slices: while the verifier threads check one slice,
        this thread screens the next and stores the one before (a future per message would cost as
        much as the check), and its own work is what bounds the batch. A slice is screened before
        the one ahead of it is stored, as the whole batch was screened before any of it was stored
        when it went in one piece; what a message says about an earlier one in its batch (a delete,
        an erasure) is applied by the store whatever order they come in."""
        context = Context(self.community, self.now_ms(), via)
        rejected: Counter[str] = Counter()
        added = verified = 0
        durable = via is not Via.SYNC  # a synced batch lost to a power cut is simply synced again
        with self.store.messages.writing(self.now_ms(), durable) as add:
            checking: deque[_Slice] = deque()
            known: BatchKnown | None = None
            for start in range(0, len(envelopes), VERIFY_SLICE):
                checking.append(self._screen(envelopes[start : start + VERIFY_SLICE], context))
                known = checking[-1].known if known is None else known.absorb(checking[-1].known)
                while len(checking) > VERIFY_AHEAD or (checking and start + VERIFY_SLICE >= len(envelopes)):
                    ready = checking.popleft()
                    added += add(self._conclude(ready, context, known, via, peer, rejected), known)
                    verified += ready.verified
        self.counters.accepted += added
        if added:
            self.changes.bump()
        return BatchOutcome(added, verified, rejected)

    def _screen(self, envelopes: list[bytes], context: Context) -> _Slice:
        """Decodes and screens a slice of a batch, and hands its survivors to the verifier threads."""
        parsed = [parse(e) for e in envelopes]
        known = self.store.known_among([m.id for m in parsed if isinstance(m, Message)])
        # by position, not id: two copies of one message may carry different signatures
        screened = [screen(m, context, self.view, known) if isinstance(m, Message) else m for m in parsed]
        suspects = [m for m, s in zip(parsed, screened, strict=True) if isinstance(m, Message) and isinstance(s, str)]
        # in halves, one per thread: a slice is checked in half the time it takes to screen one
        half = (len(suspects) + 1) // 2
        halves = [
            self._verifier.submit(_verify_all, suspects[:half]),
            self._verifier.submit(_verify_all, suspects[half:]),
        ]
        return _Slice(parsed, screened, known, halves)

    def _conclude(
        self, part: _Slice, context: Context, known: BatchKnown, via: Via, peer: str, rejected: Counter[str]
    ) -> list[tuple[Message, str]]:
        """The accepted messages of a screened slice, once its signatures are checked; the others
        are counted as refused."""
        checked = [ok for half in part.signatures for ok in half.result()]
        part.verified = len(checked)
        good = iter(checked)
        accepted: list[tuple[Message, str]] = []
        for item, author in zip(part.parsed, part.screened, strict=True):
            if isinstance(author, Verdict):
                verdict = author
            elif not next(good):
                verdict = reject(Reason.BAD_SIGNATURE, message=item if isinstance(item, Message) else None)
            else:
                assert isinstance(item, Message)
                verdict = conclude(item, author, context, self.view, known, self.limiter)
            if verdict.accepted and verdict.message is not None:
                accepted.append((verdict.message, self.author_of(verdict.message)))
            else:
                self._refused_in_batch(verdict, via, peer, rejected)
        return accepted

    def _refused_in_batch(self, verdict: Verdict, via: Via, peer: str, rejected: Counter[str]) -> None:
        self._count_refusal(verdict, via, peer)
        if verdict.reason is Reason.CHAIN_VIEW_BEHIND and peer and verdict.message is not None:
            # judged again once the view has caught up, and blamed then (``UnknownKeyWatch``)
            self.unknown_keys.note(peer, verdict.message.author, verdict.message.timestamp_ms)
        if verdict.outcome is Outcome.REJECT:
            rejected[verdict.reason.value if verdict.reason else "rejected"] += 1

    def publish(self, kind: Kind, body: Body, room: str = "") -> Message:
        """Signs a message of this node's member, checks it like any other and stores it; the
        caller gossips ``message.envelope``. Raises ``PublishError`` with the reason if refused."""
        envelope = self.signer.envelope(self.community, kind, body, self.now_ms(), room)
        verdict = self.ingest(envelope, Via.LOCAL)
        if not verdict.accepted or verdict.message is None:
            raise PublishError(_publish_refusal(verdict, self))
        self.counters.published += 1
        return verdict.message

    def address_book(self) -> list[PeerRecord]:
        """The peer records this node may use now, newest first: not expired, of an app key that
        is authorised and not revoked, of a current member, or of a guest while a pass of its runs
        (the store keeps the latest per key; the chain's effects delete the rest, this filter
        covers the moment in between)."""
        now = self.now_ms()
        return [r for r in self.store.peers.all() if r.expires_ms > now and self._live_key(r.app_key, r.member)]

    def member_of_peer(self, peer_id: bytes) -> str | None:
        """The member (or ``guest:<key>`` of a guest with a pass running) whose active app key has
        a live record for ``peer_id`` (libp2p peer id bytes), or None: how the relay and mDNS tell
        a member's (or an invited guest's) node from a stranger's."""
        now = self.now_ms()
        for record in self.store.peers.of_peer(peer_id):
            if record.expires_ms > now and self._live_key(record.app_key, record.member):
                return record.member
        return None

    def _live_key(self, app_key: bytes, member: str) -> bool:
        if is_guest(member):
            # a guest's node, while one of its passes runs (in any room)
            now = self.now_ms()
            return member == guest_author(app_key) and any(p.covers(now) for p in self.store.guest_passes(app_key))
        key = self.view.keys.get(app_key)
        return key is not None and key.revoked_ms is None and key.owner == member and self.view.is_member(member)

    def on_chain_batch(self, effects: list[Effect]) -> None:
        """A batch of the contract's events was applied to the view (members, keys, proposals, hides)."""
        self.changes.bump()
        self.on_effects(effects)

    def on_effects(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, PostHiddenEffect):
                self.counters.hidden_by_chain += 1
                log.info("%s: post %s hidden by the community", self.name, effect.post_id.hex()[:16])
            elif isinstance(effect, MemberGoneEffect):
                log.info("%s: %s is no longer a member; their later messages are refused", self.name, effect.member)
            elif isinstance(effect, KeyRevokedEffect):
                log.info("%s: app key %s revoked", self.name, effect.key.hex()[:16])


def _verify_all(messages: list[Message]) -> list[bool]:
    return [signing.verify(m) for m in messages]


def _publish_refusal(verdict: Verdict, service: NodeService) -> str:
    """What to tell the member when the node refuses their own message: the reason, and what to do."""
    reason = verdict.reason or Reason.MALFORMED
    key = f"0x{service.signer.public_key.hex()}"
    hints: dict[Reason, str] = {
        Reason.CHAIN_VIEW_BEHIND: f"this node's app key {key} is not active in its view of the chain yet "
        "(register it with `kiez keys register`, then wait for the node to see the block)",
        Reason.UNKNOWN_KEY: f"this node's app key {key} is not authorised in the community: run `kiez keys register`",
        Reason.REVOKED_KEY: f"this node's app key {key} was revoked; create a new node home with `kiez init`",
        Reason.NOT_A_MEMBER: "your account is not a member of the community (any more)",
        # the rate limit and a room's slow mode both say which limit in the detail
        Reason.RATE_LIMITED: f"{verdict.detail}; wait a moment",
        Reason.GUEST_PASS_UNKNOWN: f"this node's app key {key} is no member's and holds no guest pass here yet "
        f"(a member invites it with `kiez guest invite ROOM {key[2:]} --until 3d`)",
    }
    if reason is Reason.CHAIN_VIEW_BEHIND and service.view.keys.get(service.signer.public_key) is not None:
        # the key is active: a rule of the community's (a guest policy, a moderator) may be on its way
        return f"refused ({reason.value}): {verdict.detail}"
    hint = hints.get(reason, verdict.detail or reason.value)
    message = verdict.message
    if reason is Reason.CHAIN_VIEW_BEHIND and message is not None and message.room and message.kind in GUEST_KINDS:
        # a key unknown to the view writing in a room: a member's key not seen yet, or a guest's
        hint += f"; a guest's node writes once a member invites it (`kiez guest invite ROOM {key[2:]} --until 3d`)"
    return f"refused ({reason.value}): {hint}"
