"""What every ``kiez`` command shares: the ``--home`` and ``--json`` options, the client of the
member's own node, turning a ``NodeError`` into one line on stderr, rooms by name, how a post is
printed, and printing itself: every command prints through ``out``, ``echo`` or
``echo_data``, which make what others wrote safe for a terminal (``governance.cli.terminal``)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount

from governance.accounts import load_keystore
from governance.cli.terminal import echo, echo_json, inline, printable
from node.api.client import ApiClient
from node.config import NodeConfig, default_home
from node.errors import NodeError

HOME = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Node home [env KIEZ_HOME, default ~/.kiez].",
)
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def echo_data(data: Any, indent: int | None = None) -> None:
    """Prints ``data`` as JSON for scripts."""
    echo_json(json.dumps(data, indent=indent))


def out(as_json: bool, data: Any, human: str) -> None:
    """Prints ``data`` as JSON with --json, else ``human`` for people."""
    if as_json:
        echo_data(data)
    else:
        echo(human)


def api_for(home: Path | None) -> ApiClient:
    return ApiClient.for_node(NodeConfig.load(home or default_home()))


def guarded(func: Callable[[], None]) -> None:
    try:
        func()
    except NodeError as exc:
        raise click.ClickException(str(exc)) from None


class InputError(NodeError):
    """Something the member typed that the command cannot use."""


def resolve_room(api: ApiClient, room: str) -> str:
    """A room's id from its id or its name; '' (or 'general') is the community's general room."""
    if room in {"", "general"}:
        return ""
    rooms: list[dict[str, Any]] = api.get("/v1/rooms")["rooms"]
    if any(r["id"] == room for r in rooms):
        return room
    named = [r for r in rooms if r["name"] == room]
    if len(named) == 1:
        return str(named[0]["id"])
    if not named:
        known = ", ".join(sorted({inline(r["name"]) for r in rooms})) or "none yet"
        raise InputError(f"no room named {room!r} on this node (rooms: {known}); `kiez rooms` lists them")
    ids = ", ".join(r["id"][:12] for r in named)
    raise InputError(f"{len(named)} rooms are named {room!r}; name one by its id ({ids} …)")


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_item(item: dict[str, Any], indent: str = "") -> str:
    """A post under its header line; its own line breaks stay inside its indented body, so no
    text can pass for another post's header."""
    author = item["author"]
    shown = inline(item.get("author_name") or f"{author[:6]}…{author[-4:]}")
    extras = []
    if item["replies"]:
        extras.append(f"↩ {item['replies']}")
    extras += [f"{inline(reaction)} {count}" for reaction, count in item["reactions"].items()]
    tail = ("  " + "  ".join(extras)) if extras else ""
    head = f"{indent}{when(item['timestamp_ms'])}  {shown}  [{inline(item['id'])[:12]}]"
    body = f"{indent}    " + printable(item["text"]).replace("\n", f"\n{indent}    ")
    lines = [f"{head}{tail}", body]
    mentioned = [inline(m.get("member_name") or m["member"]) for m in item.get("mentions", [])]
    if mentioned:
        lines.append(f"{indent}    @ {', '.join(mentioned)}")
    for attachment in item.get("attachments", []):
        state = "" if attachment["held"] else "  (fetching)"
        mime, sha256 = inline(attachment["mime"]), inline(attachment["sha256"])
        lines.append(f"{indent}    📎 {mime} {_size(attachment['size'])}  /v1/blobs/{sha256}{state}")
    return "\n".join(lines)


def _size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.0f} kB" if size < 1024 * 1024 else f"{size / 2**20:.1f} MB"


def password(confirm: bool) -> str:
    """The keystore's password, from ``KIEZ_PASSWORD`` or a prompt."""
    secret = os.environ.get("KIEZ_PASSWORD")
    if secret is None:
        secret = click.prompt("keystore password", hide_input=True, confirmation_prompt=confirm)
    return secret


def load_account(config: NodeConfig) -> LocalAccount:
    """The member's Ethereum account, unlocked from the node's keystore."""
    return load_keystore(config.keystore_path, password(confirm=False))


def mentioned_line(result: dict[str, Any]) -> str:
    """What a posting command adds to its line: whom the post mentions (none: nothing)."""
    names = [inline(m.get("member_name") or m["member"]) for m in result.get("mentions", [])]
    return f"; mentioned {', '.join(names)}" if names else ""


_SPAN = re.compile(r"([0-9]{1,6})([mhdw])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def since_ms(span: str) -> int:
    """The moment ``span`` (30m, 12h, 7d, 2w) ago, in ms since the epoch (for --since)."""
    found = _SPAN.fullmatch(span.strip())
    if found is None:
        raise InputError(f"--since takes a span such as 30m, 12h, 7d or 2w, not {span!r}")
    return int((time.time() - int(found.group(1)) * _UNIT_S[found.group(2)]) * 1000)
