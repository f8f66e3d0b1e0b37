"""``kiez node run``: the member's node in the foreground until Ctrl-C."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from node.cli.toolkit import HOME
from node.config import NodeConfig, default_home
from node.errors import NodeError


@click.group(name="node")
def node_group() -> None:
    """Run this member's node."""


@node_group.command(name="run")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
@HOME
def run(log_level: str, home: Path | None) -> None:
    """Run the node until Ctrl-C: gossip, chain watcher and the local API.

    It prints one JSON line {"ready": {...}} with its peer id, addresses and API port once it
    serves.
    """
    from node.daemon.runner import main as run_main  # noqa: PLC0415 - keeps libp2p out of other commands

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # importing libp2p detaches its logger from the root (propagate=False, its own stderr
    # handler); reattach it so its warnings land in the node's log with everything else
    libp2p_log = logging.getLogger("libp2p")
    libp2p_log.propagate = True
    libp2p_log.handlers.clear()
    libp2p_log.setLevel(logging.WARNING)
    try:
        config = NodeConfig.load(home or default_home())
        run_main(config)
    except NodeError as exc:
        raise click.ClickException(f"the node cannot start: {exc}") from None
    except KeyboardInterrupt:
        pass


COMMANDS = [node_group]
