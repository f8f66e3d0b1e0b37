"""``kiez``: the one command members, voters and developers use.

The node's own commands join this group as the node grows; governance lives in ``kiez gov``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import click

from governance.cli import gov
from node import member_cli, privacy_cli, setup_cli, spaces_cli
from node.devnet import devnet


def _version() -> str:
    try:
        return version("kiez")
    except PackageNotFoundError:
        return "unknown"


@click.group()
@click.version_option(_version(), prog_name="kiez")
def main() -> None:
    """kiez: a self-governed micro-community on your own machine.

    \b
    Start here:  kiez devnet          a whole local community, with a guided scenario
                 kiez init            set up your own node (then: kiez keys register, kiez node run)
                 kiez post "hello"    talk to your running node
                 kiez gov --help      membership and moderation votes on-chain
    """


main.add_command(gov)
main.add_command(devnet)
for command in [*setup_cli.COMMANDS, *member_cli.COMMANDS, *spaces_cli.COMMANDS, *privacy_cli.COMMANDS]:
    main.add_command(command)


if __name__ == "__main__":
    main()
