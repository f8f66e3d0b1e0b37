"""``kiez``: the one command members, voters and developers use.

The member's commands live in this package, one module per group of tasks; governance comes from
``kiez gov`` (``governance.cli``). Commands that are not part of the product, such as the
multi-process ``kiez devnet`` of ``node.harness``, plug in through the ``kiez.commands`` entry
point group, so the product never imports the harness.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, entry_points, version

import click

from governance.cli import gov
from governance.cli.names import NAMES_KEY
from governance.cli.terminal import SafeGroup

#: Each command's module in this package (which lists it in its ``COMMANDS``). A module is
#: imported when one of its commands runs or help lists them, so ``kiez node run`` does not load
#: every other command's libraries into the node (about 3 MB, scripts/bench_memory.py).
COMMAND_MODULES = {
    "join": "join",
    "invite": "invite",
    "sponsor": "invite",
    "init": "setup",
    "keys": "setup",
    "node": "run",
    **dict.fromkeys(["post", "reply", "react", "delete", "feed", "thread", "status", "peers"], "member"),
    **dict.fromkeys(["rooms", "room", "events", "event", "poll"], "rooms"),
    "guest": "guests",
    "guests": "guests",
    "export": "privacy",
    "forget-me": "privacy",
    "charter": "charter",
    "profile": "profile",
    "search": "search",
    "opinions": "ranking",
    "notifications": "notices",
    "digest": "digest",
    "open": "web",
}
#: Commands outside the product (``kiez devnet`` of the harness) plug in through this group.
PLUGINS = "kiez.commands"


def _version() -> str:
    try:
        return version("kiez")
    except PackageNotFoundError:
        return "unknown"


class Commands(SafeGroup):
    """``kiez``'s group, importing a command's module (or plugin) when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        plugins = {plugin.name for plugin in entry_points(group=PLUGINS)}
        return sorted({*self.commands, *COMMAND_MODULES, *plugins})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            for command in import_module(f"node.cli.{COMMAND_MODULES[cmd_name]}").COMMANDS:
                self.add_command(command)
        if cmd_name not in self.commands:
            for plugin in entry_points(group=PLUGINS, name=cmd_name):
                self.add_command(plugin.load(), plugin.name)
        return self.commands.get(cmd_name)


def _local_names(community: str) -> dict[str, str]:
    """The names this member gave others (``node.cli.profile``), imported when a command asks."""
    from node.cli.profile import local_names  # noqa: PLC0415 - see COMMAND_MODULES

    return local_names(community)


@click.group(cls=Commands)
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
    ctx.meta[NAMES_KEY] = _local_names


main.add_command(gov)


if __name__ == "__main__":
    main()
