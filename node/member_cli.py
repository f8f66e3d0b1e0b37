"""What a member types: ``kiez post``, ``reply``, ``react``, ``delete``, ``feed``, ``status``,
``peers``. Each talks to the member's own node through its local API (``$KIEZ_HOME``)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

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


def api_for(home: Path | None) -> ApiClient:
    return ApiClient.for_node(NodeConfig.load(home or default_home()))


def guarded(func: Callable[[], None]) -> None:
    try:
        func()
    except NodeError as exc:
        raise click.ClickException(str(exc)) from None


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_item(item: dict[str, Any], indent: str = "") -> str:
    author = item["author"]
    extras = []
    if item["replies"]:
        extras.append(f"↩ {item['replies']}")
    extras += [f"{reaction} {count}" for reaction, count in item["reactions"].items()]
    tail = ("  " + "  ".join(extras)) if extras else ""
    head = f"{indent}{_when(item['timestamp_ms'])}  {author[:6]}…{author[-4:]}  [{item['id'][:12]}]"
    return f"{head}{tail}\n{indent}    {item['text']}"


def _publish(home: Path | None, as_json: bool, path: str, body: dict[str, Any], what: str) -> None:
    def run() -> None:
        result = api_for(home).post(path, body)
        click.echo(json.dumps(result) if as_json else f"{what} {result['id']}")

    guarded(run)


@click.command()
@click.argument("text")
@click.option("--room", default="", help="Room (default: the general room).")
@HOME
@JSON
def post(text: str, room: str, home: Path | None, as_json: bool) -> None:
    """Publish a post to the community."""
    _publish(home, as_json, "/v1/posts", {"text": text, "room": room}, "posted")


@click.command()
@click.argument("parent")
@click.argument("text")
@HOME
@JSON
def reply(parent: str, text: str, home: Path | None, as_json: bool) -> None:
    """Reply to the post PARENT (its id, 64 hex digits)."""
    _publish(home, as_json, "/v1/posts", {"text": text, "parent": parent}, "replied")


@click.command()
@click.argument("target")
@click.argument("reaction")
@click.option("--remove", is_flag=True, help="Withdraw this reaction.")
@HOME
@JSON
def react(target: str, reaction: str, remove: bool, home: Path | None, as_json: bool) -> None:
    """React to TARGET with REACTION (an emoji or a short word)."""
    body = {"target": target, "reaction": reaction, "active": not remove}
    _publish(home, as_json, "/v1/reactions", body, "withdrew reaction" if remove else "reacted")


@click.command()
@click.argument("target")
@HOME
@JSON
def delete(target: str, home: Path | None, as_json: bool) -> None:
    """Delete one of your own posts on every node (it can never come back)."""
    _publish(home, as_json, "/v1/deletes", {"target": target}, "deleted; tombstone")


@click.command()
@click.option("--room", default="", help="Room (default: the general room).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--follow", is_flag=True, help="Keep printing new posts as they arrive (Ctrl-C stops).")
@HOME
@JSON
def feed(room: str, limit: int, follow: bool, home: Path | None, as_json: bool) -> None:
    """Show the newest posts, with reply counts and reactions."""

    def run() -> None:
        api = api_for(home)
        query = f"/v1/feed?limit={limit}&room={room}"
        items = api.get(query)["items"]
        seen = {i["id"] for i in items}
        for item in reversed(items):
            click.echo(json.dumps(item) if as_json else render_item(item))
        while follow:
            time.sleep(1.0)
            fresh = [i for i in api.get(query)["items"] if i["id"] not in seen]
            for item in reversed(fresh):
                seen.add(item["id"])
                click.echo(json.dumps(item) if as_json else render_item(item))

    with contextlib.suppress(KeyboardInterrupt):
        guarded(run)


@click.command()
@click.argument("post_id")
@HOME
@JSON
def thread(post_id: str, home: Path | None, as_json: bool) -> None:
    """Show one post and its replies."""

    def run() -> None:
        data = api_for(home).get(f"/v1/posts/{post_id}")
        if as_json:
            click.echo(json.dumps(data))
            return
        click.echo(render_item(data["post"]))
        for item in data["replies"]:
            click.echo(render_item(item, indent="    "))

    guarded(run)


@click.command()
@HOME
@JSON
def status(home: Path | None, as_json: bool) -> None:
    """Show the node: peers, chain, stored messages, refusals by reason."""

    def run() -> None:
        data = api_for(home).get("/v1/status")
        if as_json:
            click.echo(json.dumps(data, indent=2))
            return
        chain = data["chain"]
        health = "ok" if chain["healthy"] else f"UNAVAILABLE ({chain['last_error']})"
        store = data["store"]
        messages = data["messages"]
        refused = ", ".join(f"{k} {v}" for k, v in messages["refused"].items()) or "none"
        lines = [
            f"node      {data['name']}  peer {data['peer_id']}",
            f"member    {data['member'] or 'unknown (app key not registered?)'}"
            f"  app key {data['app_key'][:16]}… {'active' if data['app_key_active'] else 'NOT ACTIVE'}",
            f"peers     {data['peers']} connected, {data['mesh_peers']} in the mesh",
            f"chain     {health}; head {chain['head']}, cursor {chain['cursor']}, lag {chain['lag_blocks']} blocks",
            f"stored    {store['post']} posts, {store['reaction']} reactions, {store['delete']} deletes, "
            f"{store['hidden']} hidden, {store['tombstones']} tombstones",
            f"messages  {messages['accepted']} accepted, {messages['published']} published by you; refused: {refused}",
            _sync_line(data.get("sync", {})),
        ]
        click.echo("\n".join(lines))

    guarded(run)


def _sync_line(sync: dict[str, Any]) -> str:
    history = sync.get("history") or []
    if not history:
        return "sync      no session yet"
    last = history[-1]
    outcome = f"failed: {last['error']}" if last["error"] else f"{last['accepted']} new, {last['sent']} sent"
    return f"sync      {sync['sessions']} sessions; last with {last['peer'][:16]}…: {outcome}"


@click.command()
@HOME
@JSON
def peers(home: Path | None, as_json: bool) -> None:
    """List the peers this node is connected to."""

    def run() -> None:
        found = api_for(home).get("/v1/peers")["peers"]
        if as_json:
            click.echo(json.dumps(found))
        else:
            click.echo("\n".join(found) if found else "no peers connected")

    guarded(run)


COMMANDS = [post, reply, react, delete, feed, thread, status, peers]
