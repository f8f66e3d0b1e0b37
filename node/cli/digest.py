"""``kiez digest``: what happened while you were away, from what your node holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import inline
from node.cli.toolkit import HOME, JSON, api_for, guarded, out, since_ms, when


@click.command()
@click.option("--since", default="7d", show_default=True, help="From how long ago: 30m, 12h, 7d or 2w.")
@HOME
@JSON
def digest(since: str, home: Path | None, as_json: bool) -> None:
    """Catch up: the most-discussed threads, the posts that reached the most members, upcoming
    events, proposals closing soon, polls and who joined."""

    def run() -> None:
        found = api_for(home).get(f"/v1/digest?since_ms={since_ms(since)}")
        out(as_json, found, render_digest(found))

    guarded(run)


def render_digest(d: dict[str, Any]) -> str:
    """The digest as sections; an empty section says so in one line."""
    sections = [
        f"since {when(d['since_ms'])}: {counted(d['posts'], 'post')} by {counted(d['writers'], 'member')}",
        _section("most discussed", [_post(p, _discussed(p)) for p in d["threads"]]),
        _section("reached the most members", [_post(p, _reached(p)) for p in d["reach"]]),
        _section("coming up", [_event(e) for e in d["events"]]),
        _section("proposals closing", [_proposal(p) for p in d["proposals"]]),
        _section("polls", [_poll(p) for p in d["polls"]]),
        _section("joined", [f"{inline(j['member_name'])}  {when(j['at_ms'])}" for j in d["joined"]]),
    ]
    return "\n".join(sections)


def _discussed(p: dict[str, Any]) -> str:
    return f"{counted(p['replies'], 'reply', 'replies')} from {counted(p['people'], 'member')}"


def _reached(p: dict[str, Any]) -> str:
    return f"{counted(p['members'], 'member')} reacted or replied"


def counted(number: int, one: str, many: str = "") -> str:
    """``1 reply``, ``2 replies``: a count with its noun."""
    return f"{number} {one if number == 1 else (many or one + 's')}"


def _section(title: str, lines: list[str]) -> str:
    body = "\n".join(f"  {line}" for line in lines) if lines else "  (nothing)"
    return f"\n{title}\n{body}"


def _post(p: dict[str, Any], count: str) -> str:
    return f"{inline(p['author_name'])}: “{inline(p['text'])}”  ({count})  [{p['id'][:12]}]"


def _event(e: dict[str, Any]) -> str:
    place = f" at {inline(e['place'])}" if e["place"] else ""
    return f"{when(e['starts_ms'])}  {inline(e['title'])}{place}  ({e['going']} going)  [{e['id'][:12]}]"


def _proposal(p: dict[str, Any]) -> str:
    return (
        f"#{p['number']} {p['kind']}: {inline(p['description'])}  closes {when(p['closes_ms'])}, {p['votes']} votes"
        f"  (kiez gov show {p['number']})"
    )


def _poll(p: dict[str, Any]) -> str:
    options = ", ".join(f"{inline(o['option'])} {o['votes']}" for o in p["options"])
    state = f"open until {when(p['closes_ms'])}" if p["open"] else "closed"
    return f"{inline(p['question'])}  {options}  ({state})  [{p['id'][:12]}]"


COMMANDS = [digest]
