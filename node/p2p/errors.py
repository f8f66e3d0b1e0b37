"""One error tree for the p2p layer, a branch of the node's (``node.errors.NodeError``).

Everything here is *expected during normal operation* (a peer is offline, a member pasted a
broken address, a post is too big, a peer reset a stream), so callers catch ``P2PError`` and tell
the member; the message is a sentence a person can act on. py-libp2p's own exceptions never leak
out of this package.
"""

from __future__ import annotations

from node.errors import NodeError


class P2PError(NodeError):
    """Base of every error raised by ``node.p2p``."""


class BadSeed(P2PError):
    """The identity seed is not 32 bytes (or does not give a usable ed25519 key)."""


class BadMultiaddr(P2PError):
    """A multiaddr cannot be parsed, or lacks the ``/p2p/<peer id>`` part we need to dial it."""


class DialFailed(P2PError):
    """A peer could not be reached or refused the handshake (offline, wrong peer id, no Noise)."""

    def __init__(self, peer_id: str, reason: str) -> None:
        super().__init__(f"cannot connect to peer {peer_id}: {reason}")
        self.peer_id = peer_id
        self.reason = reason


class MessageTooLarge(P2PError):
    """A message exceeds the configured gossip size cap; peers would refuse it anyway."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message of {size} bytes exceeds the gossip limit of {limit} bytes")
        self.size = size
        self.limit = limit


class NotSubscribed(P2PError):
    """Publishing on a topic this node has not subscribed to (and so does not validate)."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"not subscribed to topic {topic!r}; subscribe before publishing")
        self.topic = topic


class StreamFailed(P2PError):
    """A stream to a peer could not be opened, or was reset or closed under us (``reason`` says how)."""

    def __init__(self, peer_id: str, reason: str) -> None:
        super().__init__(f"stream with peer {peer_id} failed: {reason}")
        self.peer_id = peer_id
        self.reason = reason


class BadFrame(StreamFailed):
    """The peer announced a frame over the protocol's size limit, or ended the stream inside one."""


class UnsupportedLibp2p(P2PError):
    """The installed py-libp2p is not the release whose internals ``node.p2p.libp2p_compat`` patches."""

    def __init__(self, installed: str, supported: str) -> None:
        super().__init__(
            f"py-libp2p {installed} is installed, but kiez works around the bugs of py-libp2p {supported} "
            f"only; install libp2p=={supported}"
        )
        self.installed = installed
        self.supported = supported
