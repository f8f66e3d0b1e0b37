"""What a gossip validator answers, and how a gossiped message is named.

py-libp2p 0.8.1 validators return a bool, with no ignore/reject distinction (pubsub.py
``validate_msg``/``push_msg``); ``Gossip`` maps these verdicts onto it (see gossip.py).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from libp2p.pubsub.pb import rpc_pb2


class P2PVerdict(enum.Enum):
    """What the validator decided about a gossiped message (see gossip.py's docstring)."""

    ACCEPT = "accept"  # valid and stored: forward it
    IGNORE = "ignore"  # not now (duplicate, chain view behind, ...): drop, blame nobody
    REJECT = "reject"  # invalid: drop and penalise the peer that sent it


@dataclass(frozen=True)
class Judgement:
    """A verdict and the node's reason for it (``"bad_signature"``): the ledger counts strikes by reason."""

    verdict: P2PVerdict
    reason: str = ""


#: The node's validator: (topic, data, forwarding peer's id) -> verdict.
Validator = Callable[[str, bytes, str], Awaitable[P2PVerdict | Judgement]]


def message_id(msg: rpc_pb2.Message) -> bytes:
    """Content address of a pubsub message: sha256 of its data (raw digest, as js ``msgIdFn``s use),
    so the same signed post reaches a node once however many members or peers republish it."""
    return hashlib.sha256(msg.data).digest()
