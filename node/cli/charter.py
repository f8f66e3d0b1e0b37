"""``kiez charter``: the community's charter, its text checked against the hash on the chain.

The chain holds only the keccak-256 hash of the charter's text. ``kiez charter propose`` has the
node publish the text as a post in the general room and propose the hash with a description
that cites that post, as the web app does, so every node can show the text and check it.
"""

from __future__ import annotations

from pathlib import Path

import click

from governance.cli.terminal import echo, json_safe
from node.cli.toolkit import HOME, InputError, api_for, guarded, out, password
from node.core import limits

#: A transaction waits for its receipt; the node's answer comes after it.
TX_TIMEOUT_S = 180.0


@click.group()
def charter() -> None:
    """The community's charter: show it, or propose a new one."""


@charter.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@HOME
def show(as_json: bool, home: Path | None) -> None:
    """Show the charter's text, if this node holds it, and whether it matches the chain's hash."""

    def run() -> None:
        shown = api_for(home).get("/v1/gov/charter")
        mark = {True: "✓ ", False: "✗ "}.get(shown["matches"], "")
        text = f"\n\n{json_safe(shown['text'])}" if shown["text"] else ""
        out(as_json, shown, f"{mark}{shown['note']}\non the chain: {shown['hash']}{text}")

    guarded(run)


@charter.command()
@click.argument("text_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--description", default="", help="Why (shown with the proposal).")
@HOME
def propose(text_file: Path, description: str, home: Path | None) -> None:
    """Propose TEXT_FILE (UTF-8) as the charter; needs your keystore password (KIEZ_PASSWORD or
    a prompt), which goes to your node for this one transaction."""

    def run() -> None:
        try:
            text = text_file.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{text_file} is not UTF-8 text") from None
        if len(text.encode()) > limits.MAX_TEXT_BYTES:
            raise InputError(f"a charter is at most {limits.MAX_TEXT_BYTES} bytes (it travels as one post)")
        api = api_for(home)
        api.timeout = TX_TIMEOUT_S
        body = {"kind": "set_charter", "text": text, "description": description, "passphrase": password(False)}
        made = api.post("/v1/gov/proposals", body)
        echo(f"proposal {made['number']} made (block {made['block']}): members vote on it with kiez gov vote")

    guarded(run)


COMMANDS = [charter]
