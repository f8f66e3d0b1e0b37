"""How governance facts are shown: plain-text tables and sentences for people, JSON for scripts.

One place decides how a proposal's subject or a state reads, so ``kiez gov proposals``,
``kiez gov show`` and the devnet's summary never disagree.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Sequence
from typing import Any

from governance.humanize import format_duration, format_time
from governance.types import GuestPolicy, MediaPolicy, Proposal, ProposalKind, ProposalState, Rules, subject_address


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned text table with a header rule; numbers are right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    numeric = [all(_is_number(row[i]) for row in cells) and bool(cells) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(values)]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), "  ".join("─" * w for w in widths)]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


def describe_subject(kind: ProposalKind, subject: bytes) -> str:
    """What a proposal is about, in words: ``0xAbc…``, ``post 0x12ab…``, ``quorum 50 % …``,
    ``≤ 2 attachments of ≤ 512 KiB``."""
    if kind.names_account:
        return subject_address(subject)
    if kind.names_post:
        return f"post 0x{subject.hex()}"
    if kind is ProposalKind.CHANGE_RULES:
        return describe_rules(Rules.unpack(subject))
    if kind is ProposalKind.SET_MEDIA_POLICY:
        return describe_media_policy(MediaPolicy.unpack(subject))
    if kind is ProposalKind.SET_GUEST_POLICY:
        return describe_guest_policy(GuestPolicy.unpack(subject))
    return f"charter 0x{subject.hex()}"


def describe_guest_policy(policy: GuestPolicy) -> str:
    who = "moderators" if policy.inviters else "any member"
    return f"guests invited by {who}, passes of ≤ {format_duration(policy.max_pass_seconds)}"


def describe_rules(rules: Rules) -> str:
    return (
        f"quorum {rules.quorum_pct} %, threshold {rules.threshold_pct} %, "
        f"voting period {format_duration(rules.voting_period)}"
    )


def describe_media_policy(policy: MediaPolicy) -> str:
    """``≤ 2 attachments of ≤ 512 KiB``; ``no attachments`` for a cap of 0 (the size cap then
    means nothing, so it is not shown)."""
    if policy.max_attachments == 0:
        return "no attachments"
    noun = "attachment" if policy.max_attachments == 1 else "attachments"
    return f"≤ {policy.max_attachments} {noun} of ≤ {policy.max_attachment_kib} KiB"


def state_note(proposal: Proposal, now: int) -> str:
    """A short phrase about where a proposal stands, with the next step if there is one."""
    if proposal.state is ProposalState.ACTIVE:
        left = max(0, proposal.vote_end - now)
        return f"open for {format_duration(left)} (until {format_time(proposal.vote_end)})"
    if proposal.state is ProposalState.SUCCEEDED:
        return f"passed; anyone may execute it: kiez gov execute {proposal.number}"
    if proposal.state is ProposalState.DEFEATED:
        return "defeated"
    if proposal.state is ProposalState.EXECUTED:
        return "executed"
    return proposal.state.label


def tally(proposal: Proposal) -> str:
    needs = f", at least {proposal.for_votes_needed} for" if proposal.for_votes_needed > 1 else ""
    return (
        f"{proposal.for_votes} for, {proposal.against_votes} against, {proposal.abstain_votes} abstain "
        f"of {proposal.eligible_voters} eligible (quorum {proposal.quorum_votes}{needs})"
    )


def proposals_table(proposals: Sequence[Proposal]) -> str:
    rows = [
        (
            p.number,
            p.kind.label,
            _clip(describe_subject(p.kind, p.subject), 46),
            p.state.label,
            f"{p.for_votes}/{p.against_votes}/{p.abstain_votes}",
            format_time(p.vote_end),
        )
        for p in proposals
    ]
    return table(["#", "kind", "subject", "state", "for/against/abstain", "voting ends"], rows)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


_MAX_SAFE_INT = 2**53 - 1


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums and bytes as plain JSON values (bytes as 0x-hex, enums by label)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        label = getattr(value, "label", None)
        return label if isinstance(label, str) else value.name.lower()
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INT:
        # JSON readers such as JavaScript lose precision above 2**53: ids travel as hex strings.
        return hex(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, sort_keys=False)


__all__ = [
    "describe_media_policy",
    "describe_rules",
    "describe_subject",
    "dumps",
    "proposals_table",
    "state_note",
    "table",
    "tally",
    "to_jsonable",
]
