"""``kiez notifications``: what the member is told about (replies, mentions, reactions, votes
waiting, events about to start, moderation of their posts), and ``kiez notifications read``.

All of it is computed by the member's own node from what it holds; nothing is sent anywhere.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import echo, inline
from node.api.client import ApiClient
from node.cli.toolkit import HOME, JSON, api_for, echo_data, guarded, out, when

_MARK = {True: "●", False: " "}


@click.group(invoke_without_command=True)
@click.option("--unread", is_flag=True, help="Only what you have not marked read.")
@click.option("--follow", is_flag=True, help="Keep printing new notifications as they come (Ctrl-C stops).")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 200))
@HOME
@JSON
@click.pass_context
def notifications(ctx: click.Context, unread: bool, follow: bool, limit: int, home: Path | None, as_json: bool) -> None:
    """Show your notifications, newest first (● marks unread ones).

    \b
    kiez notifications --unread      what is new since you last read
    kiez notifications --follow      keep watching
    kiez notifications read          mark everything read
    """
    if ctx.invoked_subcommand is not None:
        return

    def run() -> None:
        api = api_for(home)
        found = _fetch(api, unread, limit)
        if as_json and not follow:
            echo_data(found)
            return
        items = found["items"]
        if not as_json:
            echo(_summary(found) if items or not follow else "no notifications yet; waiting for new ones")
        for item in reversed(items):
            out(as_json, item, render_notice(item))
        if follow:
            _follow(api, {i["key"] for i in items}, as_json)

    with contextlib.suppress(KeyboardInterrupt):
        guarded(run)


@notifications.command(name="read")
@HOME
@JSON
def read(home: Path | None, as_json: bool) -> None:
    """Mark every notification so far read."""

    def run() -> None:
        api = api_for(home)
        newest = api.get("/v1/notifications?limit=1")["items"]
        # up to the newest one shown, so one arriving meanwhile stays unread
        body: dict[str, Any] = {"until_ms": newest[0]["at_ms"]} if newest else {}
        result = api.post("/v1/notifications/read", body)
        out(as_json, result, f"marked read up to {when(result['read_until_ms'])}")

    guarded(run)


def _fetch(api: ApiClient, unread: bool, limit: int) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/v1/notifications?limit={limit}&unread={'true' if unread else 'false'}")
    return found


def _follow(api: ApiClient, seen: set[str], as_json: bool) -> None:
    """Prints each notification not seen before, whenever the node says something changed."""
    for _event in api.changes():
        fresh = [i for i in _fetch(api, False, 50)["items"] if i["key"] not in seen]
        for item in reversed(fresh):
            seen.add(item["key"])
            out(as_json, item, render_notice(item))


def _summary(found: dict[str, Any]) -> str:
    shown = len(found["items"])
    return f"{found['unread']} unread; showing {shown} (kiez notifications read marks them read)"


def render_notice(item: dict[str, Any]) -> str:
    """One notification: when, unread mark, its sentence, and the id to look it up by."""
    ref = ""
    if item.get("message"):
        ref = f"  [{inline(item['message'])[:12]}]"
    elif item.get("proposal") is not None:
        ref = f"  (kiez gov show {item['proposal']})"
    return f"{_MARK[bool(item['unread'])]} {when(item['at_ms'])}  {inline(item['sentence'])}{ref}"


COMMANDS = [notifications]
