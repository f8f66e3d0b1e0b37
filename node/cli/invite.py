"""Bringing people in: ``kiez invite`` (a member) and ``kiez sponsor enable|status``."""

from __future__ import annotations

import io
import re
import secrets
import time
from pathlib import Path

import click
import segno
from eth_account import Account

from governance.cli.terminal import echo
from governance.client import CommunityClient
from governance.errors import GovernanceError
from governance.invitations import Invitation, sign_invitation
from governance.types import Address
from node.cli.toolkit import HOME, JSON, api_for, load_account, out
from node.config import NodeConfig, default_home, write_private
from node.core.guests import is_guest
from node.core.invite import MAX_RECORDS, Invite, encode_invite
from node.errors import NodeError
from node.sponsor.service import SPONSOR_KEY, load_ledger, sponsor_account

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    """Seconds in ``7d``, ``12h``, ``90m``, ``2w``."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhdw])\s*", text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration such as 90m, 12h, 7d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _records(config: NodeConfig) -> list[bytes]:
    """Up to MAX_RECORDS envelopes from the running node's address book, its own first, then the
    members' nodes it is connected to (they were reachable a moment ago); never a guest's node
    (a newcomer's node knows no guest pass, and a guest sponsors nobody)."""
    api = api_for(config.home)
    own = api.get("/v1/status")["app_key"]
    records = [r for r in api.get("/v1/peers/known")["records"] if not is_guest(r["member"])]
    records.sort(key=lambda r: (r["app_key"] != own, not r["connected"], -r["timestamp_ms"]))
    return [bytes.fromhex(r["envelope"]) for r in records[:MAX_RECORDS]]


@click.command()
@click.option("--expires", default="7d", show_default=True, help="How long it admits requests: 90m, 12h, 7d, 2w.")
@click.option("--uses", default=1, show_default=True, type=click.IntRange(1, 1000), help="How many people it admits.")
@click.option("--note", default="", help="A line the newcomer sees (who you are, why you invite them).")
@click.option("--no-qr", is_flag=True, help="Print only the text, no QR code.")
@HOME
@JSON
def invite(expires: str, uses: int, note: str, no_qr: bool, home: Path | None, as_json: bool) -> None:
    """Invite someone: prints a kiez: text (and its QR code) to give them.

    The invite carries the community, an RPC endpoint, signed records of members' nodes (from
    your running node) and your signed invitation, which lets a sponsoring member's node pay
    for their join request. They run `kiez join <invite> --intro "…"`; the members still vote.
    """
    seconds = parse_duration(expires)
    try:
        config = NodeConfig.load(home or default_home())
        records = _records(config)
        if not records:
            raise NodeError("your node knows no peer record yet (not even its own): is `kiez node run` up?")
        account = load_account(config)
        client = CommunityClient.connect(config.rpc_url, config.community)
        if not client.is_member(account.address):
            raise NodeError(f"{account.address} is not a member: only members can invite")
        expiry = int(time.time()) + seconds
        invitation = Invitation(Address(account.address), secrets.randbits(256), expiry, uses)
        signed = sign_invitation(account, client.ballot_domain(), invitation)
        text = encode_invite(
            Invite(
                config.chain_id,
                bytes.fromhex(config.community[2:]),
                config.rpc_url,
                tuple(records),
                signed.to_bytes(),
                note,
            )
        )
    except (NodeError, GovernanceError) as exc:
        raise click.ClickException(str(exc)) from None
    until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expiry))
    data = {"invite": text, "expires": expiry, "uses": uses, "invitation_id": "0x" + invitation.id.hex()}
    who = "person" if uses == 1 else "people"
    human = (
        f"{text}\n\nadmits {uses} {who} until {until}; give it to them and they run:\n"
        "  kiez join '<the invite>' --intro \"who I am\""
    )
    if not no_qr and not as_json:
        qr = io.StringIO()
        segno.make(text.upper(), error="l").terminal(out=qr, compact=True)
        human = qr.getvalue() + "\n" + human
    out(as_json, data, human)


@click.group(name="sponsor")
def sponsor() -> None:
    """Pay for invited newcomers' transactions from a small account of this node."""


@sponsor.command(name="enable")
@click.option("--per-day", default=20, show_default=True, type=click.IntRange(0, 10_000), help="Transactions a day.")
@click.option(
    "--max-gas-gwei", default=50.0, show_default=True, type=click.FloatRange(min=0.001), help="Gas price ceiling."
)
@HOME
def enable(per_day: int, max_gas_gwei: float, home: Path | None) -> None:
    """Turn sponsoring on: creates the sponsor account (once) and sets the budget.

    Fund the printed address with a little ether; the node pays only for requests signed under
    a member's invitation and for newcomers' key authorisations, within the budget. Restart the
    node for the change to take effect.
    """
    try:
        config = NodeConfig.load(home or default_home())
        account = sponsor_account(config)
        if account is None:
            key = secrets.token_bytes(32)
            write_private(config.home / SPONSOR_KEY, key)
            account = Account.from_key(key)
        config.with_changes(sponsor=True, sponsor_tx_per_day=per_day, sponsor_max_gas_gwei=max_gas_gwei).save()
    except NodeError as exc:
        raise click.ClickException(str(exc)) from None
    echo(
        f"sponsoring on: up to {per_day} transactions a day at up to {max_gas_gwei:g} gwei\n"
        f"  sponsor account {account.address}: send it a little ether (about 0.0003 ETH per join at 1 gwei)\n"
        "  restart the node (kiez node run) to start sponsoring"
    )


@sponsor.command(name="status")
@HOME
@JSON
def sponsor_status(home: Path | None, as_json: bool) -> None:
    """The sponsor account, its balance, and what it paid."""
    try:
        config = NodeConfig.load(home or default_home())
        account = sponsor_account(config)
        if account is None:
            raise NodeError("sponsoring was never enabled here: run `kiez sponsor enable`")
        ledger = load_ledger(config).as_dict(time.time())
        balance = int(CommunityClient.connect(config.rpc_url, config.community).w3.eth.get_balance(account.address))
    except (NodeError, GovernanceError) as exc:
        raise click.ClickException(str(exc)) from None
    data = {"enabled": config.sponsor, "account": account.address, "balance_wei": balance, **ledger}
    human = (
        f"sponsoring {'on' if config.sponsor else 'OFF'}: account {account.address}, balance {balance / 1e18:.6f} ETH\n"
        f"  paid {ledger['today_tx']} transactions today (budget {config.sponsor_tx_per_day}), "
        f"{ledger['total_tx']} in all, {ledger['total_wei'] / 1e18:.6f} ETH"
    )
    out(as_json, data, human)


COMMANDS = [invite, sponsor]
