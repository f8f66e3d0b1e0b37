"""The member's rights over their data: ``kiez export`` and ``kiez forget-me``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from governance.cli.terminal import echo, echo_json, json_safe
from governance.client import CommunityClient
from governance.errors import GovernanceError
from node.api.client import ApiClient
from node.cli.toolkit import HOME, load_account
from node.config import NodeConfig, default_home, read_secret, write_private
from node.core.signing import Signer
from node.errors import NodeError


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.option("--member", help="Whose data (default: this node's member).")
@HOME
def export(out: Path | None, member: str | None, home: Path | None) -> None:
    """Export everything this node holds about you as one JSON document."""
    try:
        config = NodeConfig.load(home or default_home())
        query = f"?member={member}" if member else ""
        data = ApiClient.for_node(config).get(f"/v1/export{query}")
    except NodeError as exc:
        raise click.ClickException(str(exc)) from None
    # readable text (ensure_ascii=False) in which nothing a terminal acts on stands raw
    text = json_safe(json.dumps(data, indent=2, ensure_ascii=False))
    if out is None:
        echo_json(text)
        return
    try:
        write_private(out, (text + "\n").encode())  # personal data: mode 0600, never overwritten
    except NodeError as exc:
        raise click.ClickException(str(exc)) from None
    echo(f"wrote {out}: {len(data['messages'])} messages, {len(data['tombstones'])} tombstones")


@click.command(name="forget-me")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@HOME
def forget_me(yes: bool, home: Path | None) -> None:
    """Erase all your posts and reactions on every node, then leave the community.

    \b
    1. your node signs one ERASE message: every node purges everything you wrote until now and
       never takes it in again (nodes that are offline get it by sync);
    2. your node's app key is revoked on-chain, so nothing new can be signed in your name;
    3. you leave the community on-chain.
    On a guest's node (no account) only step 1 happens: a guest has nothing on-chain.
    Needs your keystore password (KIEZ_PASSWORD or a prompt). This cannot be undone.
    """
    try:
        config = NodeConfig.load(home or default_home())
        api = ApiClient.for_node(config)
        if not yes:
            click.confirm("erase everything you wrote and leave the community? this cannot be undone", abort=True)
        if not config.keystore_path.exists():
            # a guest's node: nothing on-chain to revoke or leave, the erase is all there is
            erased = api.post("/v1/erase", {})
            echo(f"erase {erased['id'][:16]}… signed and sent: every node purges what you wrote as a guest")
            return
        account = load_account(config)
        client = CommunityClient.connect(config.rpc_url, config.community, account)
        erased = api.post("/v1/erase", {})
        echo(f"erase {erased['id'][:16]}… signed and sent: every node purges what you wrote")
        key = Signer(read_secret(config.app_key_path, 32)).public_key
        info = client.key_info(key)
        if info.active and info.owner == account.address:
            result = client.revoke_key(key)
            echo(f"app key 0x{key.hex()[:16]}… revoked (block {result.block_number})")
        if client.is_member(account.address):
            result = client.leave()
            echo(f"you left the community (block {result.block_number})")
        else:
            echo("you were no longer a member")
    except (NodeError, GovernanceError) as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = [export, forget_me]
