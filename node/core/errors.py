"""The core's errors, one tree under ``node.errors.NodeError``.

Everything here means that bytes from a peer (or from the member's own input) broke the wire
protocol: a malformed or non-canonical message, a sealed box that does not open, a sync frame the
protocol does not allow. The node drops the message or ends the session; it never crashes.
"""

from __future__ import annotations

from node.core.verdict import Reason
from node.errors import NodeError


class ProtocolError(NodeError):
    """A peer or an input broke the wire protocol."""


class DecodeError(ProtocolError):
    """Bytes that are not a well-formed message (envelope, signed part or a kind's payload);
    ``reason`` says which rule they broke."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class BadJson(ProtocolError):
    """Text that is not JSON the node will read (``node.core.jsontext``); the message says where
    it broke."""


class SealError(ProtocolError):
    """A box or ciphertext that does not open: wrong key, or tampered with."""


class BadInvite(ProtocolError):
    """A text that is not a usable kiez invite (``node.core.invite``); the message says what is
    wrong with it."""


class SyncProtocolError(ProtocolError):
    """The peer sent something the sync protocol does not allow; the session ends."""


class SyncViolation(SyncProtocolError):
    """The peer went beyond what one sync session allows (node/core/syncbudget.py); ``strike`` is
    the reason booked against it."""

    def __init__(self, strike: str, detail: str) -> None:
        super().__init__(detail)
        self.strike = strike


class MentionProblem(ProtocolError):
    """A post's ``@`` mentions that cannot be resolved as written (a name two members share, too
    many members); the message says what to write instead (``node.core.mentions``)."""
