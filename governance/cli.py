"""``kiez gov``: the voters' command line.

Every command takes the same connection options (``--rpc``, ``--community``, an account from
``--keystore`` or ``--dev-account``, and ``--json``), each also read from an environment variable
(``KIEZ_RPC``, ``KIEZ_COMMUNITY``, ``KIEZ_KEYSTORE``, ``KIEZ_DEV_ACCOUNT``), so a member sets them
once per shell. Output is for people by default and JSON with ``--json``. Any expected failure
(a refused vote, a dead endpoint, a wrong password) prints one ``error:`` line and exits with 1.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from governance.accounts import create_keystore, dev_account, load_keystore, require_dev_chain
from governance.ballot import SignedBallot
from governance.client import DEFAULT_RPC_URL, CommunityClient, TxResult, checksum, connect_web3, deploy_community
from governance.errors import AccountError, GovernanceError, InvalidArgument
from governance.events import ProposalCreated
from governance.humanize import format_duration, format_time, parse_bytes32, parse_duration, short_hex
from governance.present import (
    describe_media_policy,
    describe_rules,
    describe_subject,
    dumps,
    proposals_table,
    state_note,
    table,
    tally,
)
from governance.types import (
    DEFAULT_RULES,
    MAX_ATTACHMENT_KIB,
    MAX_ATTACHMENTS,
    MediaPolicy,
    ProposalState,
    Rules,
    Support,
)


@dataclass(frozen=True)
class Options:
    """The connection options every command shares."""

    rpc: str
    community: str | None
    keystore: Path | None
    dev_account: int | None
    as_json: bool


class Session:
    """What one command invocation connects to and acts as; built lazily so that ``--help`` and
    local errors never touch the network."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._client: CommunityClient | None = None

    def account(self, required: bool = True) -> LocalAccount | None:
        opts = self.options
        if opts.keystore is not None and opts.dev_account is not None:
            raise AccountError("choose one account: --keystore or --dev-account, not both")
        if opts.dev_account is not None:
            require_dev_chain(connect_web3(opts.rpc).eth.chain_id if self._client is None else self._client.chain_id)
            return dev_account(opts.dev_account)
        if opts.keystore is not None:
            password = os.environ.get("KIEZ_PASSWORD")
            if password is None:
                password = click.prompt(f"password for {opts.keystore}", hide_input=True)
            return load_keystore(opts.keystore, password)
        if required:
            raise AccountError(
                "this command sends a transaction: choose an account with --keystore FILE "
                "(or KIEZ_KEYSTORE) or, on a local devnet, --dev-account N"
            )
        return None

    def client(self, with_account: bool = False) -> CommunityClient:
        if self._client is None:
            if not self.options.community:
                raise InvalidArgument("which community? pass --community 0x… or set KIEZ_COMMUNITY")
            self._client = CommunityClient.connect(self.options.rpc, self.options.community)
        if with_account:
            return self._client.with_account(self.account())
        return self._client

    def out(self, human: str, data: Any) -> None:
        """Prints ``human`` text, or ``data`` as JSON with --json."""
        click.echo(dumps(data) if self.options.as_json else human)


def command(group: click.Group, name: str, **kwargs: Any) -> Callable[[Callable[..., None]], click.Command]:
    """Registers a command with the shared options; the function receives a ``Session`` first."""

    def decorate(func: Callable[..., None]) -> click.Command:
        @functools.wraps(func)
        def run(
            rpc: str,
            community: str | None,
            keystore: Path | None,
            dev_account: int | None,
            as_json: bool,
            **params: Any,
        ) -> None:
            session = Session(Options(rpc, community, keystore, dev_account, as_json))
            try:
                func(session, **params)
            except GovernanceError as exc:
                raise click.ClickException(str(exc)) from None

        options = [
            click.option(
                "--rpc",
                envvar="KIEZ_RPC",
                default=DEFAULT_RPC_URL,
                show_default=True,
                help="JSON-RPC endpoint of the chain [env KIEZ_RPC].",
            ),
            click.option(
                "--community", envvar="KIEZ_COMMUNITY", help="Community contract address [env KIEZ_COMMUNITY]."
            ),
            click.option(
                "--keystore",
                envvar="KIEZ_KEYSTORE",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Encrypted keystore of your account; password from KIEZ_PASSWORD or a prompt [env KIEZ_KEYSTORE].",
            ),
            click.option(
                "--dev-account",
                envvar="KIEZ_DEV_ACCOUNT",
                type=click.IntRange(0, 9),
                help="Use Anvil's dev account N (local devnet only) [env KIEZ_DEV_ACCOUNT].",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts."),
        ]
        wrapped: Callable[..., None] = run
        for option in reversed(options):
            wrapped = option(wrapped)
        return group.command(name, **kwargs)(wrapped)

    return decorate


def tx_line(result: TxResult) -> str:
    return f"(block {result.block_number}, gas {result.gas_used:,}, tx 0x{result.tx_hash.hex()})"


def tx_data(result: TxResult) -> dict[str, Any]:
    return {"tx_hash": result.tx_hash, "block": result.block_number, "gas_used": result.gas_used}


@click.group(name="gov")
def gov() -> None:
    """Govern a community on-chain: members, keys, proposals and votes.

    \b
    Set the connection once per shell, for example on the local devnet:
      export KIEZ_COMMUNITY=0x…   KIEZ_DEV_ACCOUNT=0
    then: kiez gov proposals, kiez gov vote 3 for, kiez gov execute 3 …
    """


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
    rules = Rules(quorum, threshold, _duration(voting_period))
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
    """Show the community's name, rules, media policy, charter and counts."""
    client = session.client()
    rules = client.rules()
    media = client.media_policy()
    data = {
        "address": client.address,
        "chain_id": client.chain_id,
        "name": client.name(),
        "members": client.member_count(),
        "proposals": client.proposal_count(),
        "rules": rules,
        "media_policy": media,
        "charter_hash": client.charter_hash(),
    }
    session.out(
        f"{data['name']} — community {client.address} on chain {client.chain_id}\n"
        f"  members:   {data['members']}\n  proposals: {data['proposals']}\n"
        f"  rules:     {describe_rules(rules)}\n  media:     {describe_media_policy(media)} per post\n"
        f"  charter:   0x{client.charter_hash().hex()}",
        data,
    )


@command(gov, "members")
def members(session: Session) -> None:
    """List the current members."""
    found = session.client().members()
    rows = [(m.address, format_time(m.joined_at), "moderator" if m.moderator else "") for m in found]
    session.out(table(["member", "joined", "role"], rows) + f"\n{len(found)} members", found)


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
    """Leave the community at once (you lose your vote on open proposals)."""
    client = session.client(with_account=True)
    if not yes and not session.options.as_json:
        click.confirm(f"leave community {client.name()!r} now?", abort=True)
    result = client.leave()
    session.out(f"you left {client.name()!r} {tx_line(result)}", tx_data(result))


@command(gov, "hide")
@click.argument("post_id")
@click.option("--reason", required=True, help="Why (recorded on-chain).")
def hide(session: Session, post_id: str, reason: str) -> None:
    """As a moderator, hide a post at once (members may overturn it by vote)."""
    result = session.client(with_account=True).moderator_hide(_post(post_id), reason)
    session.out(f"post {post_id} hidden {tx_line(result)}", tx_data(result))


# ---------------------------------------------------------------------- keys


@gov.group(name="keys")
def keys() -> None:
    """Authorise or revoke the app keys your nodes sign posts with."""


@command(keys, "add")
@click.argument("pubkey")
def keys_add(session: Session, pubkey: str) -> None:
    """Authorise an ed25519 public key (64 hex digits) to sign your posts."""
    result = session.client(with_account=True).add_key(_key(pubkey))
    session.out(f"app key {pubkey} authorised {tx_line(result)}", tx_data(result))


@command(keys, "revoke")
@click.argument("pubkey")
def keys_revoke(session: Session, pubkey: str) -> None:
    """Revoke one of your app keys: posts it signs from now on are refused."""
    result = session.client(with_account=True).revoke_key(_key(pubkey))
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


@gov.group(name="propose")
def propose() -> None:
    """Propose a decision; members vote on it with `kiez gov vote`."""


def _announce(session: Session, created: ProposalCreated, result: TxResult) -> None:
    session.out(
        f"proposal {created.number} created: {created.kind.label} {describe_subject(created.kind, created.subject)}\n"
        f"  voting open until {format_time(created.vote_end)} "
        f"({created.eligible_voters} members may vote) {tx_line(result)}\n"
        f"  vote: kiez gov vote {created.number} for|against|abstain",
        {**tx_data(result), "number": created.number, "proposal_id": created.proposal_id, "kind": created.kind},
    )


_DESCRIPTION = click.option("-m", "--description", default="", help="Why: shown to voters.")


@command(propose, "add-member")
@click.argument("account")
@_DESCRIPTION
def propose_add_member(session: Session, account: str, description: str) -> None:
    """Admit ACCOUNT (they must have filed a join request)."""
    _announce(session, *session.client(with_account=True).propose_add_member(account, description))


@command(propose, "remove-member")
@click.argument("account")
@_DESCRIPTION
def propose_remove_member(session: Session, account: str, description: str) -> None:
    """Remove member ACCOUNT."""
    _announce(session, *session.client(with_account=True).propose_remove_member(account, description))


@command(propose, "hide-post")
@click.argument("post_id")
@click.option("--reason", required=True, help="Why the post should be hidden.")
def propose_hide_post(session: Session, post_id: str, reason: str) -> None:
    """Hide POST_ID (a 32-byte message id) from every member's feed."""
    _announce(session, *session.client(with_account=True).propose_hide_post(_post(post_id), reason))


@command(propose, "unhide-post")
@click.argument("post_id")
@click.option("--reason", required=True, help="Why the post should be visible again.")
def propose_unhide_post(session: Session, post_id: str, reason: str) -> None:
    """Show a hidden post again (overturns a moderator's or a vote's hide)."""
    _announce(session, *session.client(with_account=True).propose_unhide_post(_post(post_id), reason))


@command(propose, "change-rules")
@click.option("--quorum", type=int, help="Percent of eligible members that must vote (1..100).")
@click.option("--threshold", type=int, help="Percent of for+against that must be for (50..100).")
@click.option("--voting-period", help="How long proposals stay open, e.g. 3d, 12h (60s..365d).")
@_DESCRIPTION
def propose_change_rules(
    session: Session, quorum: int | None, threshold: int | None, voting_period: str | None, description: str
) -> None:
    """Change the voting rules (options left out keep their current value)."""
    client = session.client(with_account=True)
    current = client.rules()
    rules = Rules(
        quorum if quorum is not None else current.quorum_pct,
        threshold if threshold is not None else current.threshold_pct,
        _duration(voting_period) if voting_period is not None else current.voting_period,
    )
    if rules == current:
        raise InvalidArgument(f"these are the current rules already ({describe_rules(current)})")
    _announce(session, *client.propose_change_rules(rules, description))


@command(propose, "set-media-policy")
@click.option("--max-attachments", type=int, help=f"Attachments a post may carry (0..{MAX_ATTACHMENTS}; 0: none).")
@click.option("--max-attachment-kib", type=int, help=f"Size cap of one attachment in KiB (1..{MAX_ATTACHMENT_KIB}).")
@_DESCRIPTION
def propose_set_media_policy(
    session: Session, max_attachments: int | None, max_attachment_kib: int | None, description: str
) -> None:
    """Cap the attachments of posts (options left out keep their current value).

    The protocol allows at most 4 attachments of 2048 KiB (2 MiB); a community can only vote
    lower caps. Posts signed after the proposal is executed are judged by the new caps.
    """
    client = session.client(with_account=True)
    current = client.media_policy()
    policy = MediaPolicy(
        max_attachments if max_attachments is not None else current.max_attachments,
        max_attachment_kib if max_attachment_kib is not None else current.max_attachment_kib,
    )
    if policy == current:
        raise InvalidArgument(f"this is the current media policy already ({describe_media_policy(current)})")
    _announce(session, *client.propose_set_media_policy(policy, description))


# People name the thing rather than the verb (`kiez gov propose media-policy …`): accepted too,
# without a second entry in the help.
_media_policy_alias = copy.copy(propose_set_media_policy)
_media_policy_alias.hidden = True
propose.add_command(_media_policy_alias, "media-policy")


@command(propose, "set-charter")
@click.option("--file", "charter_file", type=click.File("rb"), help="The new rules text; its hash goes on-chain.")
@click.option("--hash", "charter_hash", help="The hash itself (64 hex digits).")
@_DESCRIPTION
def propose_set_charter(session: Session, charter_file: Any, charter_hash: str | None, description: str) -> None:
    """Set the charter: the hash of the community's rules text."""
    if (charter_file is None) == (charter_hash is None):
        raise InvalidArgument("give the new charter as --file TEXT_FILE or as --hash 0x…, one of them")
    value = keccak(charter_file.read()) if charter_file is not None else _bytes32(charter_hash or "", "charter hash")
    _announce(session, *session.client(with_account=True).propose_set_charter(value, description))


@command(propose, "grant-moderator")
@click.argument("account")
@_DESCRIPTION
def propose_grant_moderator(session: Session, account: str, description: str) -> None:
    """Let member ACCOUNT hide posts at once."""
    _announce(session, *session.client(with_account=True).propose_grant_moderator(account, description))


@command(propose, "revoke-moderator")
@click.argument("account")
@_DESCRIPTION
def propose_revoke_moderator(session: Session, account: str, description: str) -> None:
    """Take moderator rights from ACCOUNT."""
    _announce(session, *session.client(with_account=True).propose_revoke_moderator(account, description))


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
        f"  why: {proposal.description or '(no description)'}",
        f"  state: {proposal.state.label} — {state_note(proposal, client.chain_time())}",
        f"  tally: {tally(proposal)}; threshold {proposal.threshold_pct} % of for+against",
        f"  id: {proposal.id:#066x}",
    ]
    for vote in votes:
        reason = f" — {vote.reason}" if vote.reason else ""
        lines.append(f"    {vote.voter} voted {vote.support.label}{reason}")
    session.out("\n".join(lines), {"proposal": proposal, "votes": votes})


@command(gov, "vote")
@click.argument("number", type=click.IntRange(min=1), required=False)
@click.argument("choice", type=click.Choice(["for", "against", "abstain"], case_sensitive=False), required=False)
@click.option("--reason", default="", help="Why you vote so (recorded in the VoteCast event).")
@click.option(
    "--sign-only", type=click.Path(dir_okay=False, path_type=Path), help="Write a signed ballot here instead."
)
@click.option("--relay", type=click.File("r"), help="Submit someone's signed ballot file (you pay the gas).")
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
    click.echo(f"keystore {path} holds account {account.address}")


# ---------------------------------------------------------------------- helpers


def _duration(text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None


def _bytes32(text: str, what: str) -> bytes:
    try:
        return parse_bytes32(text, what)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None


def _post(text: str) -> bytes:
    return _bytes32(text, "post id")


def _key(text: str) -> bytes:
    return _bytes32(text, "app key")


def _write_new(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise InvalidArgument(f"{path} already exists; choose another file for the ballot") from None
