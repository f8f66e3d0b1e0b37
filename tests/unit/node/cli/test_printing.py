"""Every ``kiez`` command prints through the one chokepoint that neutralises terminal controls,
and a post's own lines cannot pass for another post."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from node.cli.toolkit import render_item

ROOT = Path(__file__).resolve().parents[4]
CLI_SOURCES = sorted([*(ROOT / "node" / "cli").glob("*.py"), *(ROOT / "governance" / "cli").glob("*.py")])
CHOKEPOINT = ROOT / "governance" / "cli" / "terminal.py"
#: Ways to reach the terminal around ``governance.cli.terminal``.
RAW = {("click", "echo"), ("click", "secho"), ("click", "echo_via_pager"), ("sys", "stdout"), ("sys", "stderr")}


def _raw_prints(source: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source.read_text("utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            found.append(f"{source.name}:{node.lineno} print()")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (node.value.id, node.attr) in RAW:
            found.append(f"{source.name}:{node.lineno} {node.value.id}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module in {"click", "sys"}:
            found += [
                f"{source.name}:{node.lineno} from {node.module} import {alias.name}"
                for alias in node.names
                if (node.module, alias.name) in RAW
            ]
    return found


@pytest.mark.parametrize("source", [s for s in CLI_SOURCES if s != CHOKEPOINT], ids=lambda s: s.name)
def test_commands_print_only_through_the_terminal_chokepoint(source: Path) -> None:
    assert _raw_prints(source) == [], "print through governance.cli.terminal (echo, echo_json) or node.cli.toolkit.out"


def test_the_scan_sees_a_raw_print() -> None:
    assert _raw_prints(CHOKEPOINT) == [f"terminal.py:{n} click.echo" for n in _echo_lines(CHOKEPOINT)]


def _echo_lines(source: Path) -> list[int]:
    lines = source.read_text("utf-8").splitlines()
    return [i + 1 for i, line in enumerate(lines) if "click.echo(" in line]


def test_a_post_cannot_forge_the_header_of_another() -> None:
    item = {
        "id": "ab" * 32,
        "author": "0x" + "12" * 20,
        "timestamp_ms": 1_800_000_000_000,
        "replies": 0,
        "reactions": {"\x1b[2J": 1},
        "text": "hello\n2027-01-15 08:00:00  0xf39F…2266  [000000000000]\rfake\x1b]0;t\x07",
    }
    shown = render_item(item, indent="    ").splitlines()
    assert shown[0].endswith("  \\x1b[2J 1")
    assert shown[1:] == [
        "        hello",
        "        2027-01-15 08:00:00  0xf39F…2266  [000000000000]\\rfake\\x1b]0;t\\x07",
    ]
