"""``kiez gov``: the voters' command line.

The commands share one set of connection options (see ``governance.cli.session``) and print for
people by default, JSON with ``--json``. Any expected failure (a refused vote, a dead endpoint, a
wrong password) prints one ``error:`` line and exits with 1. The ``propose`` commands, one per
proposal kind, are declared in ``governance.cli.propose``.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from governance.accounts import create_keystore
from governance.ballot import SignedBallot
from governance.cli.names import names_for
from governance.cli.propose import propose
from governance.cli.session import Session, command, to_app_key, to_duration, to_post_id, tx_data, tx_line
from governance.cli.terminal import SafeGroup, echo, inline, printable
from governance.client import checksum, connect_web3, deploy_community
from governance.errors import AccountError, GovernanceError, InvalidArgument
from governance.humanize import format_duration, format_time, short_hex
from governance.present import (
    describe_guest_policy,
    describe_media_policy,
    describe_rules,
    describe_subject,
    proposals_table,
    state_note,
    table,
    tally,
)
from governance.types import DEFAULT_RULES, ProposalState, Rules, Support


@click.group(name="gov", cls=SafeGroup)
def gov() -> None:
    """Govern a community on-chain: members, keys, proposals and votes.

    \b
    Set the connection once per shell, for example on the local devnet:
      export KIEZ_COMMUNITY=0x…   KIEZ_DEV_ACCOUNT=0
    then: kiez gov proposals, kiez gov vote 3 for, kiez gov execute 3 …
    """


gov.add_command(propose)


# ---------------------------------------------------------------------- community


@command(gov, "deploy")
@click.option("--name", required=True, help="Community name (also signs ballots' EIP-712 domain).")
@click.option("--founder", "founders", multiple=True, required=True, help="A founding member's address (repeat).")
@click.option("--quorum", type=click.IntRange(1, 100), default=DEFAULT_RULES.quorum_pct, show_default=True)
@click.option("--threshold", type=click.IntRange(50, 100), default=DEFAULT_RULES.threshold_pct, show_default=True)
@click.option("--voting-period", default=format_duration(DEFAULT_RULES.voting_period), show_default=True)
@click.option("--charter", type=click.File("rb"), help="File with the community's rules text (its hash goes on-chain).")
def deploy(
    session: Session,
    name: str,
    founders: tuple[str, ...],
    quorum: int,
    threshold: int,
    voting_period: str,
    charter: Any,
) -> None:
    """Found a new community with its founding members."""
    rules = Rules(quorum, threshold, to_duration(voting_period))
    charter_hash = keccak(charter.read()) if charter is not None else bytes(32)
    account = session.account()
    assert account is not None
    client = deploy_community(
        connect_web3(session.options.rpc),
        account,
        name,
        [checksum(f) for f in founders],
        rules=rules,
        charter_hash=charter_hash,
    )
    session.out(
        f"community {name!r} deployed at {client.address} on chain {client.chain_id}\n"
        f"  founders: {', '.join(founders)}\n  rules: {describe_rules(rules)}\n"
        f"  use it: export KIEZ_COMMUNITY={client.address}",
        {"address": client.address, "chain_id": client.chain_id, "name": name, "rules": rules},
    )


@command(gov, "info")
def info(session: Session) -> None:
    """Show the community's name, rules, media and guest policies, charter and counts."""
    client = session.client()
    rules = client.rules()
    media = client.media_policy()
    guests = client.guest_policy()
    data = {
        "address": client.address,
        "chain_id": client.chain_id,
        "name": client.name(),
        "members": client.member_count(),
        "proposals": client.proposal_count(),
        "rules": rules,
        "media_policy": media,
        "guest_policy": guests,
        "charter_hash": client.charter_hash(),
    }
    session.out(
        f"{inline(data['name'])} — community {client.address} on chain {client.chain_id}\n"
        f"  members:   {data['members']}\n  proposals: {data['proposals']}\n"
        f"  rules:     {describe_rules(rules)}\n  media:     {describe_media_policy(media)} per post\n"
        f"  guests:    {describe_guest_policy(guests)}\n"
        f"  charter:   0x{client.charter_hash().hex()}",
        data,
    )


@command(gov, "members")
def members(session: Session) -> None:
    """List the current members, with the names their profiles give where this machine's node
    (KIEZ_HOME) follows the same community."""
    client = session.client()
    found, names = client.members(), names_for(client.address)
    rows = [
        (m.address, names.get(m.address, ""), format_time(m.joined_at), "moderator" if m.moderator else "")
        for m in found
    ]
    data = [{**asdict(m), "name": names.get(m.address)} for m in found]
    session.out(table(["member", "name", "joined", "role"], rows) + f"\n{len(found)} members", data)


@command(gov, "join-request")
@click.option("--intro", help="A short introduction; only its hash goes on-chain.")
@click.option("--withdraw", is_flag=True, help="Withdraw your pending request instead.")
def join_request(session: Session, intro: str | None, withdraw: bool) -> None:
    """Ask to join the community (you need an account with some ether for gas)."""
    client = session.client(with_account=True)
    if withdraw:
        result = client.withdraw_join_request()
        session.out(f"join request withdrawn {tx_line(result)}", tx_data(result))
        return
    if not intro:
        raise InvalidArgument("say who you are: --intro 'I run the repair café on Thursdays'")
    intro_hash = keccak(text=intro)
    result = client.request_to_join(intro_hash)
    session.out(
        f"join request filed; members now see it (intro hash 0x{intro_hash.hex()}) {tx_line(result)}",
        {**tx_data(result), "intro_hash": intro_hash},
    )


@command(gov, "join-requests")
def join_requests(session: Session) -> None:
    """List pending join requests."""
    found = session.client().join_requests()
    rows = [(r.applicant, format_time(r.requested_at), short_hex(r.intro_hash)) for r in found]
    session.out(table(["applicant", "requested", "intro hash"], rows) if rows else "no pending join requests", found)


@command(gov, "leave")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def leave(session: Session, yes: bool) -> None:
    """Leave the community at once (you lose your vote on open proposals; the last member cannot leave)."""
    client = session.client(with_account=True)
    if not yes and not session.options.as_json:
        click.confirm(f"leave community '{inline(client.name())}' now?", abort=True)
    result = client.leave()
    session.out(f"you left '{inline(client.name())}' {tx_line(result)}", tx_data(result))


@command(gov, "hide")
@click.argument("post_id")
@click.option("--reason", required=True, help="Why (recorded on-chain).")
def hide(session: Session, post_id: str, reason: str) -> None:
    """As a moderator, hide a post at once (members may overturn it by vote)."""
    result = session.client(with_account=True).moderator_hide(to_post_id(post_id), reason)
    session.out(f"post {post_id} hidden {tx_line(result)}", tx_data(result))


# ---------------------------------------------------------------------- keys


@gov.group(name="keys")
def keys() -> None:
    """Authorise or revoke the app keys your nodes sign posts with."""


@command(keys, "add")
@click.argument("pubkey")
def keys_add(session: Session, pubkey: str) -> None:
    """Authorise an ed25519 public key (64 hex digits) to sign your posts."""
    result = session.client(with_account=True).add_key(to_app_key(pubkey))
    session.out(f"app key {pubkey} authorised {tx_line(result)}", tx_data(result))


@command(keys, "revoke")
@click.argument("pubkey")
def keys_revoke(session: Session, pubkey: str) -> None:
    """Revoke one of your app keys: posts it signs from now on are refused."""
    result = session.client(with_account=True).revoke_key(to_app_key(pubkey))
    session.out(f"app key {pubkey} revoked {tx_line(result)}", tx_data(result))


@command(keys, "list")
@click.argument("owner", required=False)
def keys_list(session: Session, owner: str | None) -> None:
    """List the app keys of OWNER (default: your account)."""
    if owner is None:
        account = session.account()
        assert account is not None
        owner = account.address
    found = session.client().keys_of(owner)
    rows = [
        ("0x" + k.key.hex(), "active" if k.active else f"revoked {format_time(k.revoked_at)}", format_time(k.added_at))
        for k in found
    ]
    session.out(table(["key", "state", "added"], rows) if rows else f"{owner} has no app keys", found)


# ---------------------------------------------------------------------- proposals


_STATES = click.Choice([s.label for s in ProposalState if s not in (ProposalState.QUEUED, ProposalState.EXPIRED)])


@command(gov, "proposals")
@click.option("--state", "states", type=_STATES, multiple=True, help="Only proposals in this state (repeat).")
def proposals(session: Session, states: tuple[str, ...]) -> None:
    """List proposals, newest first, with their state and tallies."""
    wanted = [ProposalState[s.upper()] for s in states] or None
    found = session.client().proposals(wanted)
    session.out(proposals_table(found) if found else "no proposals", found)


@command(gov, "show")
@click.argument("number", type=click.IntRange(min=1))
def show(session: Session, number: int) -> None:
    """Show proposal NUMBER: what it decides, why, its tally and who voted how."""
    client = session.client()
    proposal = client.proposal(number)
    votes = client.votes(proposal.id)
    lines = [
        f"proposal {proposal.number}: {proposal.kind.label} {describe_subject(proposal.kind, proposal.subject)}",
        f"  proposed by {proposal.proposer} at {format_time(proposal.vote_start)}",
        f"  why: {_paragraphs(proposal.description) or '(no description)'}",
        f"  state: {proposal.state.label} — {state_note(proposal, client.chain_time())}",
        f"  tally: {tally(proposal)}; threshold {proposal.threshold_pct} % of for+against",
        f"  id: {proposal.id:#066x}",
    ]
    for vote in votes:
        reason = f" — {inline(vote.reason)}" if vote.reason else ""
        lines.append(f"    {vote.voter} voted {vote.support.label}{reason}")
    session.out("\n".join(lines), {"proposal": proposal, "votes": votes})


@command(gov, "vote")
@click.argument("number", type=click.IntRange(min=1), required=False)
@click.argument("choice", type=click.Choice(["for", "against", "abstain"], case_sensitive=False), required=False)
@click.option("--reason", default="", help="Why you vote so (recorded in the VoteCast event).")
@click.option(
    "--sign-only", type=click.Path(dir_okay=False, path_type=Path), help="Write a signed ballot here instead."
)
@click.option("--relay", type=click.File("rb"), help="Submit someone's signed ballot file (you pay the gas).")
def vote(
    session: Session,
    number: int | None,
    choice: str | None,
    reason: str,
    sign_only: Path | None,
    relay: Any,
) -> None:
    """Vote on proposal NUMBER: for, against or abstain.

    With --sign-only nothing is sent: the vote is signed (EIP-712) into a ballot file that anyone
    can submit with --relay, so a voter without ether can still vote.
    """
    client = session.client(with_account=True)
    if relay is not None:
        if number is not None or choice is not None:
            raise InvalidArgument("--relay takes the vote from the ballot file; give no NUMBER or CHOICE")
        ballot = SignedBallot.from_json(relay.read())
        result = client.relay_ballot(ballot)
        session.out(f"relayed {ballot.voter}'s vote ({ballot.support.label}) {tx_line(result)}", tx_data(result))
        return
    if number is None or choice is None:
        raise InvalidArgument("say which proposal and how: kiez gov vote NUMBER for|against|abstain")
    support = Support.parse(choice)
    proposal = client.proposal(number)
    if sign_only is not None:
        if reason:
            raise InvalidArgument("a signed ballot cannot carry a reason (the Ballot type has none); drop --reason")
        ballot = client.sign_ballot(proposal.id, support)
        _write_new(sign_only, ballot.to_json())
        session.out(
            f"signed ballot written to {sign_only}; anyone can submit it: kiez gov vote --relay {sign_only}", ballot
        )
        return
    result = client.cast_vote(proposal.id, support, reason)
    after = client.proposal(number)
    session.out(
        f"you voted {support.label} on proposal {number} {tx_line(result)}\n"
        f"  tally: {tally(after)}\n  state: {after.state.label} — {state_note(after, client.chain_time())}",
        {**tx_data(result), "proposal": after},
    )


@command(gov, "execute")
@click.argument("number", type=click.IntRange(min=1))
def execute(session: Session, number: int) -> None:
    """Execute proposal NUMBER once it has passed (anyone may)."""
    client = session.client(with_account=True)
    proposal = client.proposal(number)
    result = client.execute(proposal)
    session.out(
        f"proposal {number} executed: {proposal.kind.label} {describe_subject(proposal.kind, proposal.subject)} "
        f"{tx_line(result)}",
        {**tx_data(result), "events": result.events},
    )


# ---------------------------------------------------------------------- accounts


@gov.group(name="account")
def account_group() -> None:
    """Create or inspect the encrypted keystore of your Ethereum account."""


@account_group.command("new")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--import-key-env", metavar="VAR", help="Import the private key held in environment variable VAR.")
def account_new(path: Path, import_key_env: str | None) -> None:
    """Create an encrypted keystore at PATH (mode 0600) with a new or imported key."""
    try:
        key: bytes | None = None
        if import_key_env:
            raw = os.environ.get(import_key_env)
            if not raw:
                raise AccountError(f"environment variable {import_key_env} is empty or unset")
            key = bytes.fromhex(raw.removeprefix("0x"))
        password = os.environ.get("KIEZ_PASSWORD") or click.prompt(
            "new keystore password", hide_input=True, confirmation_prompt=True
        )
        account = create_keystore(path, password, key)
    except (GovernanceError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    echo(f"keystore {path} holds account {account.address}")


# ---------------------------------------------------------------------- helpers


def _paragraphs(text: str) -> str:
    """A description in ``kiez gov show``: its line breaks stay, indented under "why:"."""
    return printable(text).replace("\n", "\n       ")


def _write_new(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise InvalidArgument(f"{path} already exists; choose another file for the ballot") from None
