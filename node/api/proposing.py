"""What a member may propose from the web app, as a request, and the contract call it becomes.

Every kind the contract knows is here: about an account (add or remove a member, grant or revoke
a moderator), about a post (hide, unhide), and about the community (its voting rules, its media
policy, its guest policy, its charter). The fields a kind needs are checked together, so a missing one is named
("change_rules needs quorum_pct") instead of failing in the contract.

A charter is text, and the chain holds only its keccak-256 hash. So the text travels as a post
in the general room, signed and synced like any other, and the proposal's description cites
that post (``charter text: post 0x…``): every node can then find the text and check it against
the hash the community voted for.
"""

from __future__ import annotations

import re
from typing import Annotated

from eth_utils.crypto import keccak
from pydantic import TypeAdapter, ValidationError

from governance import calls
from governance.calls import ContractCall
from governance.types import MAX_GUEST_PASS_SECONDS, GuestPolicy, MediaPolicy, ProposalKind, Rules
from node.api.fields import Body, Choice, Integer, MemberAddress, Text, parse_id
from node.api.problems import HttpError
from node.core import limits

#: The names the page uses for each kind.
KINDS = {kind.name.lower(): kind for kind in ProposalKind}
ADDRESS: TypeAdapter[str] = TypeAdapter(MemberAddress)
Reason = Annotated[str, Text(1000, blank=True)]
#: How a proposal's description cites the post holding the charter's text.
CHARTER_REFERENCE = re.compile(r"charter text: post 0x([0-9a-f]{64})")


class ProposalRequest(Body):
    kind: Annotated[str, Choice(*KINDS)]
    #: A post's id for hide_post/unhide_post, a member's address for the account kinds.
    target: Annotated[str, Text(66, blank=True)] = ""
    description: Reason = ""
    #: change_rules
    quorum_pct: Annotated[int, Integer(1, 100)] | None = None
    threshold_pct: Annotated[int, Integer(1, 100)] | None = None
    voting_period_s: Annotated[int, Integer(Rules.MIN_VOTING_PERIOD, Rules.MAX_VOTING_PERIOD)] | None = None
    #: set_media_policy
    max_attachments: Annotated[int, Integer(0, limits.MAX_ATTACHMENTS)] | None = None
    max_attachment_kib: Annotated[int, Integer(1, limits.MAX_ATTACHMENT_KIB)] | None = None
    #: set_guest_policy: who may invite guests (0 any member, 1 moderators only), the longest pass
    guest_inviters: Annotated[int, Integer(0, 1)] | None = None
    max_guest_pass_s: Annotated[int, Integer(0, MAX_GUEST_PASS_SECONDS)] | None = None
    #: set_charter: the charter's whole text (published as a post in the general room)
    text: Annotated[str, Text(limits.MAX_TEXT_BYTES, blank=True)] = ""


def charter_hash(text: str) -> bytes:
    """The hash the chain holds for a charter's text (what ``kiez gov propose set-charter --file``
    computes from the file's bytes)."""
    return keccak(text.encode("utf-8"))


def charter_description(description: str, post_id: bytes) -> str:
    cited = f"charter text: post 0x{post_id.hex()}"
    return f"{description}\n\n{cited}" if description.strip() else cited


def charter_posts(description: str) -> list[bytes]:
    """The posts a proposal's description cites as holding the charter's text."""
    return [bytes.fromhex(found) for found in CHARTER_REFERENCE.findall(description)]


def proposal_call(fields: ProposalRequest, charter_post: bytes | None = None) -> ContractCall:
    """The contract call of a proposal request; ``charter_post`` is the post just published
    with a set_charter request's text."""
    kind = KINDS[fields.kind]
    if kind.names_post:
        return calls.propose_about(kind, parse_id(fields.target, "target"), fields.description)
    if kind.names_account:
        return calls.propose_about(kind, _address(fields.target), fields.description)
    if kind is ProposalKind.CHANGE_RULES:
        quorum, threshold, period = _needed(fields, "quorum_pct", "threshold_pct", "voting_period_s")
        return calls.change_rules(Rules(quorum, threshold, period), fields.description)
    if kind is ProposalKind.SET_MEDIA_POLICY:
        count, kib = _needed(fields, "max_attachments", "max_attachment_kib")
        return calls.set_media_policy(MediaPolicy(count, kib), fields.description)
    if kind is ProposalKind.SET_GUEST_POLICY:
        inviters, seconds = _needed(fields, "guest_inviters", "max_guest_pass_s")
        return calls.set_guest_policy(GuestPolicy(inviters, seconds), fields.description)
    if not fields.text.strip() or charter_post is None:
        raise HttpError(400, "set_charter needs text: the charter's whole text")
    return calls.set_charter(charter_hash(fields.text), charter_description(fields.description, charter_post))


def _needed(fields: ProposalRequest, *names: str) -> list[int]:
    values = [getattr(fields, name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if value is None]
    if missing:
        raise HttpError(400, f"{fields.kind} needs {', '.join(missing)}")
    return values


def _address(value: str) -> str:
    """A member's address, checked as the API checks every address."""
    try:
        return ADDRESS.validate_python(value)
    except ValidationError:
        raise HttpError(400, "target must be an address: 0x and 40 hex digits") from None
