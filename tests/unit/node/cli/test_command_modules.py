"""``kiez`` imports a command's module only when the command is asked for: its table of command
names must name every command of every module, and only those."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from click.testing import CliRunner

import node.cli
from node.cli import COMMAND_MODULES, main


def test_the_table_names_each_module_s_commands_and_nothing_else() -> None:
    listed: dict[str, str] = {}
    for module in pkgutil.iter_modules(node.cli.__path__):
        if module.name == "__main__":  # it runs the command line
            continue
        commands = getattr(import_module(f"node.cli.{module.name}"), "COMMANDS", [])
        listed |= {command.name: module.name for command in commands if command.name is not None}
    assert listed == COMMAND_MODULES


def test_help_lists_every_command_and_the_plugins() -> None:
    shown = CliRunner().invoke(main, ["--help"])
    assert shown.exit_code == 0, shown.output
    for name in [*COMMAND_MODULES, "gov", "devnet"]:
        assert f"\n  {name} " in shown.output, name
