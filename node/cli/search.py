"""``kiez search``: find posts again, ranked, with the matching words marked."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import inline, printable
from node.api.client import ApiClient
from node.cli.toolkit import HOME, JSON, InputError, api_for, guarded, out, resolve_room, since_ms, when


@click.command()
@click.argument("words")
@click.option("--room", default=None, help="Only this room, by name or id ('general' for the general room).")
@click.option("--author", default=None, help="Only this member: a name as shown, or an address.")
@click.option("--since", default=None, help="Only posts from the last 30m, 12h, 7d or 2w.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@HOME
@JSON
def search(
    words: str, room: str | None, author: str | None, since: str | None, limit: int, home: Path | None, as_json: bool
) -> None:
    """Search the posts this node can show for WORDS (each must appear, or a word starting with
    it); best match first. Private rooms are not searched: their text is never written to disk."""

    def run() -> None:
        api = api_for(home)
        params: dict[str, Any] = {"q": words, "limit": limit}
        if room is not None:
            params["room"] = resolve_room(api, room)
        if author is not None:
            params["author"] = _member(api, author)
        if since is not None:
            params["since_ms"] = since_ms(since)
        found = api.get("/v1/search?" + urllib.parse.urlencode(params))
        out(as_json, found, _render(found["results"]) or f"no post holds {words!r}")

    guarded(run)


def _render(results: list[dict[str, Any]]) -> str:
    blocks = []
    for hit in results:
        shown = inline(hit.get("author_name") or hit["author"])
        snippet = printable(hit["snippet"], newlines=False).replace("⟦", "«").replace("⟧", "»")
        blocks.append(f"{when(hit['timestamp_ms'])}  {shown}  [{inline(hit['id'])[:12]}]\n    {snippet}")
    return "\n".join(blocks)


def _member(api: ApiClient, who: str) -> str:
    """A member's address from their address or their name as shown (ignoring case)."""
    if who.startswith("0x") and len(who) == 42:
        return who
    profiles = api.get("/v1/profiles")["profiles"]
    named = [p for p in profiles if who.casefold() in (p["name"].casefold(), p["shown_as"].casefold())]
    if len(named) == 1:
        return str(named[0]["member"])
    if not named:
        raise InputError(f"no member is named {who!r} here (kiez profile list shows the names)")
    choices = ", ".join(inline(p["shown_as"]) for p in named)
    raise InputError(f"{len(named)} members are named {who!r}: {choices}; give the address")


COMMANDS = [search]
