"""py-libp2p's message cache and validation cache, made to agree with content-addressed ids."""

from __future__ import annotations

from libp2p.pubsub.mcache import CacheEntry, MessageCache
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import ValidationCache, ValidationResult

from node.p2p.verdicts import message_id


class ContentIdMessageCache(MessageCache):
    """py-libp2p's gossip cache, keyed by our message id instead of its hard-coded from+seqno.

    Upstream behaviour worked around (no upstream issue): py-libp2p 0.8.1's ``MessageCache``
    ignores the ``msg_id_constructor`` given to ``Pubsub`` and keys by from+seqno (pubsub/mcache.py,
    ``default_msg_id_fn``), so its IHAVE gossip would advertise ids that never match the
    content-addressed seen cache and every IHAVE would fetch the full message again.
    """

    def put(self, msg: rpc_pb2.Message) -> None:
        mid = message_id(msg)
        if mid in self.msgs:
            return
        self.msgs[mid] = msg
        self.history[0].append(CacheEntry(mid, msg.topicIDs))


class NoVerdictCache(ValidationCache):
    """Never remembers a verdict: IGNORE must mean "ask again next time".

    Upstream behaviour worked around (no upstream issue): py-libp2p 0.8.1 caches every verdict by
    message id for 300 s (pubsub.py ``ValidationCache``), which would turn an IGNORE ("my chain
    view is behind, retry later") into a five-minute refusal.
    """

    def get(self, msg_id: bytes) -> ValidationResult | None:
        return None

    def put(self, msg_id: bytes, result: ValidationResult) -> None:
        return
