"""``kiez gov propose …``: one command per proposal kind, built from one declaration each.

A declaration says what the command is called, its help, its arguments and options, and how it
turns them into the client's ``propose_*`` call. Every command then announces the proposal the
same way: its number, what it decides, until when members vote, and how to vote.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from eth_utils.crypto import keccak

from governance.cli.session import Session, command, to_bytes32, to_duration, to_post_id, tx_data, tx_line
from governance.client import CommunityClient, TxResult
from governance.errors import InvalidArgument
from governance.events import ProposalCreated
from governance.humanize import format_time
from governance.present import describe_media_policy, describe_rules, describe_subject
from governance.types import MAX_ATTACHMENT_KIB, MAX_ATTACHMENTS, GuestPolicy, MediaPolicy, Rules

#: What a client's ``propose_*`` call returns.
Proposed = tuple[ProposalCreated, TxResult]
#: A click argument or option, as its decorator.
Param = Callable[[Any], Any]


@click.group(name="propose")
def propose() -> None:
    """Propose a decision; members vote on it with `kiez gov vote`."""


@dataclass(frozen=True)
class ProposalCommand:
    """One ``kiez gov propose NAME`` command."""

    name: str
    help: str
    params: tuple[Param, ...]
    #: Makes the proposal from the session and the command's parameters (passed by their click
    #: names): connects with ``session.client(with_account=True)`` and calls ``propose_*``.
    make: Callable[..., Proposed]


def _announce(session: Session, created: ProposalCreated, result: TxResult) -> None:
    session.out(
        f"proposal {created.number} created: {created.kind.label} {describe_subject(created.kind, created.subject)}\n"
        f"  voting open until {format_time(created.vote_end)} "
        f"({created.eligible_voters} members may vote) {tx_line(result)}\n"
        f"  vote: kiez gov vote {created.number} for|against|abstain",
        {**tx_data(result), "number": created.number, "proposal_id": created.proposal_id, "kind": created.kind},
    )


def _register(spec: ProposalCommand) -> click.Command:
    def run(session: Session, **params: Any) -> None:
        _announce(session, *spec.make(session, **params))

    run.__name__ = "propose_" + spec.name.replace("-", "_")
    decorated: Callable[..., None] = run
    for param in reversed(spec.params):
        decorated = param(decorated)
    return command(propose, spec.name, help=spec.help)(decorated)


# ---------------------------------------------------------------------- how each kind is made


def _account_kind(call: Callable[[CommunityClient, str, str], Proposed]) -> Callable[..., Proposed]:
    """A kind that names an account: ACCOUNT and a description go to the client as they are."""

    def make(session: Session, account: str, description: str) -> Proposed:
        return call(session.client(with_account=True), account, description)

    return make


def _post_kind(call: Callable[[CommunityClient, bytes, str], Proposed]) -> Callable[..., Proposed]:
    """A kind that names a post: POST_ID (64 hex digits) and the reason."""

    def make(session: Session, post_id: str, reason: str) -> Proposed:
        client = session.client(with_account=True)
        return call(client, to_post_id(post_id), reason)

    return make


def _change_rules(
    session: Session, quorum: int | None, threshold: int | None, voting_period: str | None, description: str
) -> Proposed:
    client = session.client(with_account=True)
    current = client.rules()
    rules = Rules(
        quorum if quorum is not None else current.quorum_pct,
        threshold if threshold is not None else current.threshold_pct,
        to_duration(voting_period) if voting_period is not None else current.voting_period,
    )
    if rules == current:
        raise InvalidArgument(f"these are the current rules already ({describe_rules(current)})")
    return client.propose_change_rules(rules, description)


def _set_media_policy(
    session: Session, max_attachments: int | None, max_attachment_kib: int | None, description: str
) -> Proposed:
    client = session.client(with_account=True)
    current = client.media_policy()
    policy = MediaPolicy(
        max_attachments if max_attachments is not None else current.max_attachments,
        max_attachment_kib if max_attachment_kib is not None else current.max_attachment_kib,
    )
    if policy == current:
        raise InvalidArgument(f"this is the current media policy already ({describe_media_policy(current)})")
    return client.propose_set_media_policy(policy, description)


def _set_guest_policy(session: Session, inviters: str | None, max_pass: str | None, description: str) -> Proposed:
    client = session.client(with_account=True)
    current = client.guest_policy()
    policy = GuestPolicy(
        {"members": 0, "moderators": 1}[inviters] if inviters is not None else current.inviters,
        to_duration(max_pass) if max_pass is not None else current.max_pass_seconds,
    )
    if policy == current:
        raise InvalidArgument("this is the current guest policy already")
    return client.propose_set_guest_policy(policy, description)


def _set_charter(session: Session, charter_file: Any, charter_hash: str | None, description: str) -> Proposed:
    if (charter_file is None) == (charter_hash is None):
        raise InvalidArgument("give the new charter as --file TEXT_FILE or as --hash 0x…, one of them")
    value = keccak(charter_file.read()) if charter_file is not None else to_bytes32(charter_hash or "", "charter hash")
    return session.client(with_account=True).propose_set_charter(value, description)


# ---------------------------------------------------------------------- the table

_ACCOUNT = click.argument("account")
_POST_ID = click.argument("post_id")
_DESCRIPTION = click.option("-m", "--description", default="", help="Why: shown to voters.")

COMMANDS = (
    ProposalCommand(
        "add-member",
        "Admit ACCOUNT (they must have filed a join request).",
        (_ACCOUNT, _DESCRIPTION),
        _account_kind(CommunityClient.propose_add_member),
    ),
    ProposalCommand(
        "remove-member",
        "Remove member ACCOUNT (the other members decide, with two for votes at least; needs three members).",
        (_ACCOUNT, _DESCRIPTION),
        _account_kind(CommunityClient.propose_remove_member),
    ),
    ProposalCommand(
        "hide-post",
        "Hide POST_ID (a 32-byte message id) from every member's feed.",
        (_POST_ID, click.option("--reason", required=True, help="Why the post should be hidden.")),
        _post_kind(CommunityClient.propose_hide_post),
    ),
    ProposalCommand(
        "unhide-post",
        "Show a hidden post again (overturns a moderator's or a vote's hide).",
        (_POST_ID, click.option("--reason", required=True, help="Why the post should be visible again.")),
        _post_kind(CommunityClient.propose_unhide_post),
    ),
    ProposalCommand(
        "change-rules",
        "Change the voting rules (options left out keep their current value).",
        (
            click.option("--quorum", type=int, help="Percent of eligible members that must vote (1..100)."),
            click.option("--threshold", type=int, help="Percent of for+against that must be for (50..100)."),
            click.option("--voting-period", help="How long proposals stay open, e.g. 3d, 12h (60s..365d)."),
            _DESCRIPTION,
        ),
        _change_rules,
    ),
    ProposalCommand(
        "set-media-policy",
        "Cap the attachments of posts (options left out keep their current value).\n\n"
        f"The protocol allows at most {MAX_ATTACHMENTS} attachments of {MAX_ATTACHMENT_KIB} KiB "
        f"({MAX_ATTACHMENT_KIB // 1024} MiB); a community can only vote\n"
        "lower caps. Posts signed after the proposal is executed are judged by the new caps.",
        (
            click.option(
                "--max-attachments", type=int, help=f"Attachments a post may carry (0..{MAX_ATTACHMENTS}; 0: none)."
            ),
            click.option(
                "--max-attachment-kib", type=int, help=f"Size cap of one attachment in KiB (1..{MAX_ATTACHMENT_KIB})."
            ),
            _DESCRIPTION,
        ),
        _set_media_policy,
    ),
    ProposalCommand(
        "set-guest-policy",
        "Who may invite guests, and how long a guest pass may last (options left out keep their value).",
        (
            click.option("--inviters", type=click.Choice(["members", "moderators"]), help="Who may invite guests."),
            click.option("--max-pass", help="Longest guest pass, e.g. 7d, 12h (at most 90d; 0s: no passes)."),
            _DESCRIPTION,
        ),
        _set_guest_policy,
    ),
    ProposalCommand(
        "set-charter",
        "Set the charter: the hash of the community's rules text.",
        (
            click.option(
                "--file", "charter_file", type=click.File("rb"), help="The new rules text; its hash goes on-chain."
            ),
            click.option("--hash", "charter_hash", help="The hash itself (64 hex digits)."),
            _DESCRIPTION,
        ),
        _set_charter,
    ),
    ProposalCommand(
        "grant-moderator",
        "Let member ACCOUNT hide posts at once.",
        (_ACCOUNT, _DESCRIPTION),
        _account_kind(CommunityClient.propose_grant_moderator),
    ),
    ProposalCommand(
        "revoke-moderator",
        "Take moderator rights from ACCOUNT.",
        (_ACCOUNT, _DESCRIPTION),
        _account_kind(CommunityClient.propose_revoke_moderator),
    ),
)

for _spec in COMMANDS:
    _register(_spec)

# People name the thing rather than the verb (`kiez gov propose media-policy …`): accepted too,
# without a second entry in the help.
_media_policy_alias = copy.copy(propose.commands["set-media-policy"])
_media_policy_alias.hidden = True
propose.add_command(_media_policy_alias, "media-policy")
