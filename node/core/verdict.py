"""What a node decides about a message, and why.

Validation never raises: it returns a ``Verdict``. The outcome tells gossip what to do:
ACCEPT (store and forward), IGNORE (drop without blaming the peer: a duplicate, a message our
chain view cannot judge yet, one that is merely late) or REJECT (drop and penalise the peer: it
forwarded something no honest node would). The reason is a stable name, counted per reason in
the node's status.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from node.core.types import Message


class Outcome(enum.Enum):
    ACCEPT = "accept"
    IGNORE = "ignore"
    REJECT = "reject"


class Reason(enum.Enum):
    """Why a message was refused (value: the name counted in ``kiez status``)."""

    OVERSIZED = "oversized"
    MALFORMED = "malformed"
    NON_CANONICAL = "non_canonical"
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_COMMUNITY = "wrong_community"
    BAD_SIGNATURE = "bad_signature"
    DUPLICATE = "duplicate"
    UNKNOWN_KEY = "unknown_key"
    KEY_NOT_YET_VALID = "key_not_yet_valid"
    REVOKED_KEY = "revoked_key"
    NOT_A_MEMBER = "not_a_member"
    CHAIN_VIEW_BEHIND = "chain_view_behind"
    HIDDEN = "hidden"
    DELETED = "deleted"
    NOT_AUTHOR = "not_author"
    TOO_NEW = "too_new"
    TOO_OLD = "too_old"
    RATE_LIMITED = "rate_limited"
    BAD_CONTENT = "bad_content"
    ROOM_RULES = "room_rules"
    EXPIRED = "expired"  # a peer record past its expiry: stale, not misbehaviour (IGNORE)
    BAD_BINDING = "bad_binding"  # a peer record whose peer key did not sign the binding (REJECT)
    # guests (node/core/guests.py); "PASS" is a guest pass, not a password (S105)
    # no pass known for the key or pass id yet (IGNORE: sync may bring it)
    GUEST_PASS_UNKNOWN = "guest_pass_unknown"  # noqa: S105
    # a guest writes outside the room(s) it holds a pass for (REJECT)
    GUEST_WRONG_ROOM = "guest_wrong_room"
    # a kind a guest may not write: only posts, reactions, deletes and erase (REJECT)
    GUEST_NOT_ALLOWED = "guest_not_allowed"
    # signed outside its pass's time (REJECT)
    GUEST_PASS_EXPIRED = "guest_pass_expired"  # noqa: S105
    # signed after its pass was ended (IGNORE: the end may be news to the peer)
    GUEST_PASS_ENDED = "guest_pass_ended"  # noqa: S105
    # the policy did not let the signer invite (REJECT)
    GUEST_INVITER_NOT_ALLOWED = "guest_inviter_not_allowed"
    # a pass running past what the policy allows (REJECT)
    GUEST_PASS_TOO_LONG = "guest_pass_too_long"  # noqa: S105


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: Reason | None = None
    detail: str = ""
    message: Message | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPT

    def __str__(self) -> str:
        if self.reason is None:
            return self.outcome.value
        return f"{self.outcome.value}: {self.reason.value}" + (f" ({self.detail})" if self.detail else "")


def accept(message: Message) -> Verdict:
    return Verdict(Outcome.ACCEPT, message=message)


def ignore(reason: Reason, detail: str = "", message: Message | None = None) -> Verdict:
    return Verdict(Outcome.IGNORE, reason, detail, message)


def reject(reason: Reason, detail: str = "", message: Message | None = None) -> Verdict:
    return Verdict(Outcome.REJECT, reason, detail, message)
