"""``kiez``: the one command members, voters and developers use.

The member's commands live in this package, one module per group of tasks; governance comes from
``kiez gov`` (``governance.cli``). Commands that are not part of the product, such as the
multi-process ``kiez devnet`` of ``node.harness``, plug in through the ``kiez.commands`` entry
point group, so the product never imports the harness.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, entry_points, version

import click

from governance.cli import gov
from governance.cli.names import NAMES_KEY
from governance.cli.terminal import SafeGroup
from node.cli import (
    charter,
    digest,
    guests,
    invite,
    join,
    member,
    notices,
    privacy,
    profile,
    ranking,
    rooms,
    run,
    search,
    setup,
    web,
)


class _PluggableGroup(SafeGroup):
    """Adds the ``kiez.commands`` plugins when the commands are first listed or looked up, not when
    this package is imported: a plugin (the devnet) imports modules that use this package's own."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            for plugin in entry_points(group="kiez.commands"):
                self.add_command(plugin.load(), plugin.name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugins()
        return super().get_command(ctx, cmd_name)


def _version() -> str:
    try:
        return version("kiez")
    except PackageNotFoundError:
        return "unknown"


@click.group(cls=_PluggableGroup)
@click.version_option(_version(), prog_name="kiez")
@click.pass_context
def main(ctx: click.Context) -> None:
    """kiez: a self-governed micro-community on your own machine.

    \b
    Start here:  kiez join INVITE     join a community with an invite a member gave you
                 kiez devnet          a whole local community, with a guided scenario
                 kiez init            set up your own node (then: kiez keys register, kiez node run)
                 kiez post "hello"    talk to your running node
                 kiez notifications   what you were told about; kiez digest to catch up
                 kiez open            your node's web app in the browser
                 kiez gov --help      membership and moderation votes on-chain
    """
    ctx.meta[NAMES_KEY] = profile.local_names


main.add_command(gov)
for command in [
    *join.COMMANDS,
    *invite.COMMANDS,
    *setup.COMMANDS,
    *run.COMMANDS,
    *member.COMMANDS,
    *rooms.COMMANDS,
    *guests.COMMANDS,
    *privacy.COMMANDS,
    *charter.COMMANDS,
    *profile.COMMANDS,
    *search.COMMANDS,
    *ranking.COMMANDS,
    *notices.COMMANDS,
    *digest.COMMANDS,
    *web.COMMANDS,
]:
    main.add_command(command)


if __name__ == "__main__":
    main()
