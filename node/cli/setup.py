"""Setting a node up: ``kiez init`` and ``kiez keys register|show``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from governance.accounts import create_keystore, dev_account, require_dev_chain
from governance.cli.terminal import echo
from governance.client import DEFAULT_RPC_URL, CommunityClient
from governance.errors import GovernanceError
from node.cli.toolkit import HOME, load_account, password
from node.config import DEFAULT_API_PORT, DEFAULT_P2P_PORT, NodeConfig, create_secrets, default_home, read_secret
from node.core.signing import Signer
from node.errors import NodeError


@click.command()
@click.option("--community", required=True, envvar="KIEZ_COMMUNITY", help="Community contract address.")
@click.option("--rpc", default=DEFAULT_RPC_URL, envvar="KIEZ_RPC", show_default=True, help="Chain JSON-RPC URL.")
@click.option("--name", default="", help="A name for this node in logs and status.")
@click.option("--p2p-port", default=DEFAULT_P2P_PORT, show_default=True, help="libp2p TCP port.")
@click.option("--p2p-host", default="127.0.0.1", show_default=True, help="libp2p listen address.")
@click.option("--api-port", default=DEFAULT_API_PORT, show_default=True, help="Local API port (127.0.0.1 only).")
@click.option("--bootstrap", multiple=True, help="A peer to connect to: /ip4/…/tcp/…/p2p/<id> (repeat).")
@click.option("--confirmations", default=0, show_default=True, help="Blocks to wait before trusting chain events.")
@click.option("--import-key-env", metavar="VAR", help="Import your Ethereum key from environment variable VAR.")
@click.option("--dev-account", type=click.IntRange(0, 9), help="Use Anvil's dev account N (local devnet only).")
@click.option("--guest", is_flag=True, help="A guest's node: no account; a member invites its app key into a room.")
@HOME
def init(
    community: str,
    rpc: str,
    name: str,
    p2p_port: int,
    p2p_host: str,
    api_port: int,
    bootstrap: tuple[str, ...],
    confirmations: int,
    import_key_env: str | None,
    dev_account: int | None,
    guest: bool,
    home: Path | None,
) -> None:
    """Create a node home: config, app key, libp2p key, API token and your encrypted account.

    Your Ethereum account goes into an encrypted keystore (password from KIEZ_PASSWORD or a
    prompt): a new one by default, or imported with --import-key-env or --dev-account.
    Then authorise the node's app key on-chain with `kiez keys register`.

    With --guest the home has no account: a member invites the printed app key into a room
    (`kiez guest invite`), and the node, dialling the --bootstrap members' nodes, writes there.
    """
    where = home or default_home()
    try:
        if (where / "config.toml").exists():
            raise NodeError(f"{where} already holds a node; choose another --home or remove it first")
        client = CommunityClient.connect(rpc, community)
        config = NodeConfig(
            home=where,
            rpc_url=rpc,
            community=client.address,
            chain_id=client.chain_id,
            p2p_host=p2p_host,
            p2p_port=p2p_port,
            api_port=api_port,
            bootstrap=tuple(bootstrap),
            confirmations=confirmations,
            name=name or where.name,
        )
        problems = config.problems() + (_guest_problems(bootstrap, import_key_env, dev_account) if guest else [])
        if problems:
            raise NodeError("; ".join(problems))
        if guest:
            guest_home(config, client.name(), home)
            return
        key = _import_key(import_key_env, dev_account, client.chain_id)
        _make_home(where)
        account = create_keystore(config.keystore_path, password(confirm=True), key)
        create_secrets(config)
        config.save()
    except (NodeError, GovernanceError) as exc:
        raise click.ClickException(str(exc)) from None
    app_key = Signer(read_secret(config.app_key_path, 32)).public_key.hex()
    member = (
        "a member" if client.is_member(account.address) else "NOT a member yet (ask to join: kiez gov join-request)"
    )
    echo(
        f"node home {where} created for community {client.name()!r} ({client.address}, chain {client.chain_id})\n"
        f"  your account {account.address} is {member}\n"
        f"  app key 0x{app_key}\n"
        f"next: kiez keys register{_home_flag(home)}   then: kiez node run{_home_flag(home)}"
    )


def _make_home(where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(where, 0o700)


def _guest_problems(bootstrap: tuple[str, ...], import_key_env: str | None, dev_account: int | None) -> list[str]:
    problems = [] if bootstrap else ["a guest's node needs --bootstrap: a member's node to dial"]
    if import_key_env or dev_account is not None:
        problems.append("a guest's node has no account: --guest goes without --import-key-env and --dev-account")
    return problems


def guest_home(config: NodeConfig, community: str, home: Path | None) -> None:
    """A node home without an account: only the keys and the config (a guest never votes)."""
    _make_home(config.home)
    create_secrets(config)
    config.save()
    echo(f"guest node home {config.home} created for community {community!r} ({config.community})")
    echo(guest_next_steps(config, home))


def guest_next_steps(config: NodeConfig, home: Path | None) -> str:
    """The guest's app key and what comes next: a member invites the key, then the node runs."""
    app_key = Signer(read_secret(config.app_key_path, 32)).public_key.hex()
    return (
        f"  app key 0x{app_key}\n"
        f"ask a member to invite it:  kiez guest invite ROOM 0x{app_key} --until 3d\n"
        f"then: kiez node run{_home_flag(home)}"
    )


def _home_flag(home: Path | None) -> str:
    return f" --home {home}" if home else ""


def _import_key(env: str | None, dev: int | None, chain_id: int) -> bytes | None:
    if env and dev is not None:
        raise NodeError("choose --import-key-env or --dev-account, not both")
    if dev is not None:
        require_dev_chain(chain_id)
        return bytes(dev_account(dev).key)
    if env:
        raw = os.environ.get(env)
        if not raw:
            raise NodeError(f"environment variable {env} is empty or unset")
        try:
            return bytes.fromhex(raw.removeprefix("0x"))
        except ValueError:
            raise NodeError(f"{env} does not hold a hex private key") from None
    return None


@click.group(name="keys")
def keys() -> None:
    """This node's app key on-chain."""


@keys.command(name="register")
@HOME
def register(home: Path | None) -> None:
    """Authorise this node's app key in the community (a transaction from your account)."""
    try:
        config = NodeConfig.load(home or default_home())
        account = load_account(config)
        client = CommunityClient.connect(config.rpc_url, config.community, account)
        key = Signer(read_secret(config.app_key_path, 32)).public_key
        info = client.key_info(key)
        if info.registered:
            state = "active" if info.active else "revoked"
            echo(f"app key 0x{key.hex()} is already registered to {info.owner} ({state})")
            return
        result = client.add_key(key)
    except (NodeError, GovernanceError) as exc:
        raise click.ClickException(str(exc)) from None
    echo(f"app key 0x{key.hex()} authorised for {account.address} (block {result.block_number})")


@keys.command(name="show")
@HOME
def show(home: Path | None) -> None:
    """Print this node's app key (public half)."""
    try:
        config = NodeConfig.load(home or default_home())
        echo("0x" + Signer(read_secret(config.app_key_path, 32)).public_key.hex())
    except NodeError as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = [init, keys]
