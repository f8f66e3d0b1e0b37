"""``kiez join INVITE --intro "…"``: from an invite to a member's node, with no ether.

One command, safe to run again (each step first looks at the chain to see whether it is done):

1. the node home: keystore (passphrase), app key, libp2p key, X25519 key, and a config made from
   the invite (community, chain, RPC hint, bootstrap peers from the invite's records);
2. the join request, signed here and handed to a sponsoring member's node over
   ``/kiez/sponsor/1.0.0``, which submits it: the contract opens the admission proposal in the
   inviter's name;
3. the vote: the newcomer sees the tally and the time left; once it passed, a sponsor executes it;
4. the app key's authorisation, signed here and submitted by a sponsor the same way.

The newcomer's account never sends a transaction. The delivery uses a short-lived libp2p host on
the node's own key (the node itself need not run yet, and usually cannot: it has no
authorised key until step 4).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import click
import trio
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from governance.accounts import create_keystore
from governance.cli.terminal import echo
from governance.client import CommunityClient, checksum
from governance.errors import GovernanceError
from governance.invitations import SignedInvitation, sign_join_request, sign_key_authorisation
from governance.types import Proposal, ProposalKind, ProposalState
from node.cli.setup import guest_home, guest_next_steps
from node.cli.toolkit import HOME, load_account, password
from node.config import DEFAULT_API_PORT, DEFAULT_P2P_PORT, NodeConfig, create_secrets, default_home, read_secret
from node.core import encoding
from node.core.errors import ProtocolError
from node.core.invite import Invite, decode_invite
from node.core.peers import peer_id_text
from node.core.signing import Signer
from node.core.types import PeerBody
from node.errors import NodeError
from node.p2p import open_host
from node.p2p.addresses import dialable
from node.sponsor import SponsorError, SponsorReply, ask_sponsor

SIGNATURE_LIFETIME_S = 3600
POLL_S = 2.0
ASK_TIMEOUT_S = 150.0


def sponsors(invite: Invite) -> list[tuple[str, list[str]]]:
    """(peer id, dialable addresses) of each node the invite's records name, in the invite's order."""
    found = []
    for envelope in invite.records:
        try:
            body = encoding.decode(envelope).body
        except ProtocolError:
            continue
        if isinstance(body, PeerBody):
            peer = peer_id_text(body.peer_id)
            found.append((peer, [a for a in (dialable(b, peer) for b in body.addrs) if a is not None]))
    return found


async def _ask_each(seed: bytes, nodes: list[tuple[str, list[str]]], kind: str, payload: bytes | int) -> SponsorReply:
    refusals = []
    async with open_host(seed, "127.0.0.1", 0) as host:  # it only dials out
        for peer, addrs in nodes:
            for addr in addrs:
                try:
                    with trio.fail_after(15):
                        await host.connect(addr)
                    break
                except Exception as exc:  # an unreachable address is expected: try the next one
                    refusals.append(f"{addr}: cannot connect ({type(exc).__name__})")
            else:
                continue
            try:
                reply = await ask_sponsor(host, peer, kind, payload, ASK_TIMEOUT_S)
            except (SponsorError, trio.TooSlowError, NodeError) as exc:
                refusals.append(f"{peer[:16]}…: {exc or 'no answer in time'}")
                continue
            if reply.ok:
                return reply
            refusals.append(f"{peer[:16]}…: {reply.message}")
    raise NodeError("no member's node would submit it:\n  " + "\n  ".join(refusals or ["the invite names no node"]))


def deliver(config: NodeConfig, invite: Invite, kind: str, payload: bytes | int) -> SponsorReply:
    # the addresses that do not answer are said once, in the summary, not by py-libp2p per attempt
    logging.getLogger("libp2p").setLevel(logging.CRITICAL)
    seed = read_secret(config.p2p_key_path, 32)
    return trio.run(_ask_each, seed, sponsors(invite), kind, payload)


def invite_config(where: Path, invite: Invite, rpc: str, p2p: tuple[str, int, int]) -> NodeConfig:
    """The config of a node made from an invite: its community, its chain, its RPC hint (unless
    ``rpc`` replaces it) and the nodes its records name as bootstrap peers."""
    bootstrap = tuple(addrs[0] for _, addrs in sponsors(invite) if addrs)
    config = NodeConfig(
        home=where,
        rpc_url=rpc,
        community=checksum(invite.contract_hex),
        chain_id=invite.chain_id,
        p2p_host=p2p[0],
        p2p_port=p2p[1],
        api_port=p2p[2],
        bootstrap=bootstrap,
        name=where.name,
    )
    problems = config.problems()
    if problems:
        raise NodeError("; ".join(problems))
    return config


def _make_home(where: Path, invite: Invite, rpc: str, p2p: tuple[str, int, int]) -> tuple[NodeConfig, LocalAccount]:
    config = invite_config(where, invite, rpc, p2p)
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(where, 0o700)
    account = create_keystore(config.keystore_path, password(confirm=True))
    create_secrets(config)
    config.save()
    echo(f"created your node's home {where}: your account {account.address}, keys and config (all mode 0600)")
    return config, account


def existing_home(where: Path, invite: Invite) -> NodeConfig | None:
    """The config already in ``where`` (None if there is none), which must be of the invite's community."""
    if not (where / "config.toml").exists():
        return None
    config = NodeConfig.load(where)
    if config.community.lower() != invite.contract_hex or config.chain_id != invite.chain_id:
        raise NodeError(f"{where} already holds a node of another community; choose another --home")
    return config


def connect(config: NodeConfig, invite: Invite) -> CommunityClient:
    """The community's contract over the config's RPC, which must serve the invite's chain."""
    client = CommunityClient.connect(config.rpc_url, config.community)
    if client.chain_id != invite.chain_id:
        raise NodeError(f"{config.rpc_url} serves chain {client.chain_id}, the invite is for chain {invite.chain_id}")
    return client


def still_valid(invite: Invite, now_s: float | None = None) -> SignedInvitation:
    """The invite's signed invitation, if it has not expired: past its expiry the contract refuses
    it, and its peer records are likely stale."""
    signed = SignedInvitation.from_bytes(invite.invitation)
    expiry = signed.invitation.expiry
    if expiry <= (time.time() if now_s is None else now_s):
        until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expiry))
        raise NodeError(f"this invite expired at {until}; ask a member for a new one (kiez invite)")
    return signed


def _admission(client: CommunityClient, applicant: str) -> Proposal | None:
    subject = bytes(12) + bytes.fromhex(applicant[2:])
    found = [p for p in client.proposals() if p.kind == ProposalKind.ADD_MEMBER and p.subject == subject]
    return found[0] if found else None


def _file_request(
    config: NodeConfig, invite: Invite, client: CommunityClient, account: LocalAccount, intro: str
) -> None:
    signed_invitation = still_valid(invite)
    domain = client.ballot_domain()
    request = sign_join_request(
        account,
        domain,
        keccak(text=intro),
        signed_invitation,
        int(time.time()) + SIGNATURE_LIFETIME_S,
        client.nonce(account.address),
    )
    echo(f"asking a member's node to file your join request (invited by {signed_invitation.invitation.inviter}) …")
    reply = deliver(config, invite, "join", request.to_bytes())
    echo(f"filed: your request is proposal #{reply.proposal} (transaction {reply.tx}, paid by the community)")


def _describe(p: Proposal) -> str:
    closes = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(p.vote_end))
    return (
        f"proposal #{p.number}: {p.votes_cast} of {p.eligible_voters} votes so far "
        f"({p.for_votes} for, {p.against_votes} against, {p.abstain_votes} abstain); voting closes at {closes}"
    )


def _await_vote(config: NodeConfig, invite: Invite, client: CommunityClient, applicant: str, wait: bool) -> bool:
    """Follows the admission until the applicant is a member (True), or returns False when not
    waiting; a refused admission is an error."""
    last = ""
    while not client.is_member(applicant):
        proposal = _admission(client, applicant)
        if proposal is None:
            raise NodeError("your join request has no admission proposal on-chain; ask your inviter")
        if proposal.state == ProposalState.SUCCEEDED:
            echo(f"proposal #{proposal.number} passed; asking a member's node to execute it …")
            deliver(config, invite, "execute", int(proposal.number))
            continue
        if proposal.state not in (ProposalState.ACTIVE, ProposalState.PENDING):
            raise NodeError(f"proposal #{proposal.number} ended {proposal.state.name.lower()}: you were not admitted")
        line = _describe(proposal)
        if line != last:
            echo(line)
            last = line
        if not wait:
            echo("run `kiez join` again later to continue (it picks up where it stopped)")
            return False
        time.sleep(POLL_S)
    return True


def _authorise_key(config: NodeConfig, invite: Invite, client: CommunityClient, account: LocalAccount) -> None:
    key = Signer(read_secret(config.app_key_path, 32)).public_key
    if client.key_info(key).registered:
        return
    auth = sign_key_authorisation(
        account,
        client.ballot_domain(),
        account.address,
        key,
        client.nonce(account.address),
        int(time.time()) + SIGNATURE_LIFETIME_S,
    )
    echo("asking a member's node to authorise your node's app key …")
    reply = deliver(config, invite, "key", auth.to_bytes())
    echo(f"app key 0x{key.hex()} authorised (transaction {reply.tx}, paid by the community)")


def _step(what: str, func: Callable[[], None]) -> None:
    try:
        func()
    except (NodeError, GovernanceError) as exc:
        raise click.ClickException(f"{what}: {exc}") from None


def _join_as_guest(invite: Invite, where: Path, home: Path | None, rpc: str, p2p: tuple[str, int, int]) -> None:
    """A guest's home from the invite (as ``kiez init --guest`` makes one): no account, no join
    request; an existing guest home of the same community is left as it is."""
    config = existing_home(where, invite)
    if config is not None:
        if config.keystore_path.exists():
            raise NodeError(f"{where} holds a member's node (it has an account), not a guest's; choose another --home")
        echo(f"{where} already holds a guest's node of this community; nothing changed")
        echo(guest_next_steps(config, home))
        return
    inviter = still_valid(invite).invitation.inviter
    config = invite_config(where, invite, rpc, p2p)
    if not config.bootstrap:
        raise NodeError("the invite names no member's node to dial; ask for a new invite")
    guest_home(config, connect(config, invite).name(), home)
    echo(f"(the member who gave you this invite is {inviter})")


@click.command()
@click.argument("invite_text", metavar="INVITE")
@click.option("--intro", default=None, help="Who you are, in a line; the members see its hash on-chain.")
@click.option("--guest", is_flag=True, help="Set up a guest's node instead: no account, no request, no vote.")
@click.option("--no-wait", is_flag=True, help="Stop once the request is filed (run again to continue).")
@click.option("--rpc", default=None, help="Chain JSON-RPC URL [default: the invite's hint].")
# a member's node must be reachable by the others (the local API stays on 127.0.0.1)
@click.option("--p2p-host", default="0.0.0.0", show_default=True, help="libp2p listen address of your node.")  # noqa: S104
@click.option("--p2p-port", default=DEFAULT_P2P_PORT, show_default=True, help="libp2p TCP port of your node.")
@click.option("--api-port", default=DEFAULT_API_PORT, show_default=True, help="Local API port (127.0.0.1 only).")
@HOME
def join(
    invite_text: str,
    intro: str | None,
    guest: bool,
    no_wait: bool,
    rpc: str | None,
    p2p_host: str,
    p2p_port: int,
    api_port: int,
    home: Path | None,
) -> None:
    """Join a community with an invite: sets up your node and asks to join; no ether needed.

    A member's node files your signed request (--intro is required); the members vote; a
    member's node then authorises your node's key. Safe to run again: it continues where it
    stopped.

    With --guest you join as a guest expert instead: a node home with no account (no request,
    no vote, no passphrase) dialling the invite's members' nodes; it prints your app key and
    the command a member runs to invite it into a room (`kiez guest invite`).
    """
    where = home or default_home()
    if guest == (intro is not None):
        raise click.UsageError("--guest files no join request: leave out --intro" if guest else "--intro is required")
    try:
        invite = decode_invite(invite_text)
        if invite.note:
            echo(f"the invite says: {invite.note}")
        if guest:
            _join_as_guest(invite, where, home, rpc or invite.rpc_hint, (p2p_host, p2p_port, api_port))
            return
        config = existing_home(where, invite)
        if config is not None and not config.keystore_path.exists():
            raise NodeError(f"{where} holds a guest's node (no account); choose another --home to join as a member")
        if config is None:
            config, account = _make_home(where, invite, rpc or invite.rpc_hint, (p2p_host, p2p_port, api_port))
        else:
            account = load_account(config)
        client = connect(config, invite)
    except (NodeError, GovernanceError) as exc:
        raise click.ClickException(str(exc)) from None
    if not _member_steps(config, invite, client, account, intro or "", no_wait):
        return
    flag = f" --home {home}" if home else ""
    echo(f'all set. next: kiez node run{flag}   then, in another terminal: kiez post "hello"{flag}')


def _member_steps(
    config: NodeConfig, invite: Invite, client: CommunityClient, account: LocalAccount, intro: str, no_wait: bool
) -> bool:
    """The request, the vote and the key's authorisation, each skipped once done; False while the
    vote is still open and it was not to wait."""
    me = account.address
    echo(f"joining {client.name()!r} ({client.address} on chain {client.chain_id}) as {me}")
    if not client.is_member(me) and client.join_request(me) is None:
        _step("filing the join request", lambda: _file_request(config, invite, client, account, intro))
    admitted = False

    def vote() -> None:
        nonlocal admitted
        admitted = _await_vote(config, invite, client, me, not no_wait)

    _step("waiting for the vote", vote)
    if not admitted:
        return False
    echo(f"you are a member of {client.name()!r}")
    _step("authorising your app key", lambda: _authorise_key(config, invite, client, account))
    return True


COMMANDS = [join]
