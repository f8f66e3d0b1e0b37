"""What every ``kiez gov`` command shares: the connection options, the session they open, how a
command reports a transaction, and the parsers that turn a typed argument into a value.

Every command takes the same connection options (``--rpc``, ``--community``, an account from
``--keystore`` or ``--dev-account``, and ``--json``), each also read from an environment variable
(``KIEZ_RPC``, ``KIEZ_COMMUNITY``, ``KIEZ_KEYSTORE``, ``KIEZ_DEV_ACCOUNT``), so a member sets them
once per shell. Any expected failure (a ``GovernanceError``) prints one ``error:`` line and exits
with 1.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount

from governance.accounts import dev_account, load_keystore, require_dev_chain
from governance.cli.terminal import echo, echo_json
from governance.client import DEFAULT_RPC_URL, CommunityClient, TxResult, connect_web3
from governance.errors import AccountError, GovernanceError, InvalidArgument
from governance.humanize import parse_bytes32, parse_duration
from governance.present import dumps


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
        """Prints ``human`` text, or ``data`` as JSON with --json, made safe for a terminal."""
        if self.options.as_json:
            echo_json(dumps(data))
        else:
            echo(human)


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


# ---------------------------------------------------------------------- parsers


def to_duration(text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None


def to_bytes32(text: str, what: str) -> bytes:
    try:
        return parse_bytes32(text, what)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None


def to_post_id(text: str) -> bytes:
    return to_bytes32(text, "post id")


def to_app_key(text: str) -> bytes:
    return to_bytes32(text, "app key")
