"""What a member types: ``kiez post``, ``reply``, ``react``, ``delete``, ``feed``, ``status``,
``peers``. Each talks to the member's own node through its local API (``$KIEZ_HOME``)."""

from __future__ import annotations

import contextlib
import mimetypes
import time
from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import echo, inline
from node.api.client import ApiClient
from node.cli.ranking import show_ranked
from node.cli.toolkit import (
    HOME,
    JSON,
    api_for,
    echo_data,
    guarded,
    mentioned_line,
    out,
    render_item,
    resolve_room,
)
from node.core import limits, media


def _publish(home: Path | None, as_json: bool, path: str, body: dict[str, Any], what: str) -> None:
    def run() -> None:
        result = api_for(home).post(path, body)
        out(as_json, result, f"{what} {result['id']}")

    guarded(run)


def _mentions(addresses: tuple[str, ...]) -> dict[str, Any]:
    """The post's ``mentions`` when given with --mention (otherwise the node reads @Name)."""
    return {"mentions": list(addresses)} if addresses else {}


MENTION = click.option(
    "--mention",
    "mentions",
    multiple=True,
    metavar="ADDRESS",
    help="Mention this member (repeatable) instead of reading @Name from the text.",
)


@click.command()
@click.argument("text")
@click.option("--room", default="", help="Room, by name or id (default: the general room).")
@click.option(
    "--attach",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Attach a picture or PDF (repeatable); peers fetch it by its hash.",
)
@MENTION
@HOME
@JSON
def post(
    text: str, room: str, files: tuple[Path, ...], mentions: tuple[str, ...], home: Path | None, as_json: bool
) -> None:
    """Publish a post to the community. @Name (a member's name) or @0x… in TEXT mentions them:
    they are told on their node."""

    def run() -> None:
        api = api_for(home)
        body: dict[str, Any] = {"text": text, "room": resolve_room(api, room), **_mentions(mentions)}
        if files:
            body["attachments"] = [upload(api, path) for path in files]
        result = api.post("/v1/posts", body)
        out(as_json, result, f"posted {result['id']}{mentioned_line(result)}")

    guarded(run)


def upload(api: ApiClient, path: Path) -> str:
    """Uploads a file (POST /v1/blobs), typed by its bytes; answers its sha256."""
    data = path.read_bytes()  # the type by the bytes first (the node checks them): a .png may be a JPEG
    mime = media.sniff(data) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    uploaded = api.upload(data, mime)
    return str(uploaded["sha256"])


def _room_of(api: ApiClient, message_id: str) -> str:
    """The room of a post this node can show (replies and reactions go to the same room)."""
    return str(api.get(f"/v1/posts/{message_id}")["post"]["room"])


@click.command()
@click.argument("parent")
@click.argument("text")
@MENTION
@HOME
@JSON
def reply(parent: str, text: str, mentions: tuple[str, ...], home: Path | None, as_json: bool) -> None:
    """Reply to the post PARENT (its id, 64 hex digits), in its room; its author is told."""

    def run() -> None:
        api = api_for(home)
        body = {"text": text, "parent": parent, "room": _room_of(api, parent), **_mentions(mentions)}
        result = api.post("/v1/posts", body)
        out(as_json, result, f"replied {result['id']}{mentioned_line(result)}")

    guarded(run)


@click.command()
@click.argument("target")
@click.argument("reaction")
@click.option("--remove", is_flag=True, help="Withdraw this reaction.")
@HOME
@JSON
def react(target: str, reaction: str, remove: bool, home: Path | None, as_json: bool) -> None:
    """React to TARGET with REACTION (an emoji or a short word)."""

    def run() -> None:
        api = api_for(home)
        body = {"target": target, "reaction": reaction, "active": not remove, "room": _room_of(api, target)}
        result = api.post("/v1/reactions", body)
        out(as_json, result, f"{'withdrew reaction' if remove else 'reacted'} {result['id']}")

    guarded(run)


@click.command()
@click.argument("target")
@HOME
@JSON
def delete(target: str, home: Path | None, as_json: bool) -> None:
    """Delete one of your own posts on every node (it can never come back)."""
    _publish(home, as_json, "/v1/deletes", {"target": target}, "deleted; tombstone")


@click.command()
@click.option(
    "--room", default="", help="Room, by name or id (default: the general room; for a ranked sort, every open room)."
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--follow", is_flag=True, help="Keep printing new posts as they arrive (Ctrl-C stops).")
@click.option(
    "--sort",
    type=click.Choice(["new", "bridging", "personal"]),
    default="new",
    show_default=True,
    help="new: newest first; bridging: liked across the community's usual divides; personal: what you "
    "engage with, with a share from outside your usual circle (marked ◇). Ranked posts say why.",
)
@click.option("--page", default=0, show_default=True, type=click.IntRange(0, 10_000), help="Page of a ranked feed.")
@click.option(
    "--min-supporters",
    default=3,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Distinct supporters a post needs before the bridging sort ranks it.",
)
@click.option(
    "--diversity",
    default=20,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Share of each personal page (percent) from outside your usual topics and people.",
)
@HOME
@JSON
def feed(
    room: str,
    limit: int,
    follow: bool,
    sort: str,
    page: int,
    min_supporters: int,
    diversity: int,
    home: Path | None,
    as_json: bool,
) -> None:
    """Show the newest posts (or a ranked page, with --sort), with reply counts and reactions."""
    if sort != "new" and follow:
        raise click.UsageError("--follow shows the newest posts; it does not go with --sort " + sort)

    def run() -> None:
        api = api_for(home)
        if sort != "new":
            show_ranked(api, sort, room, limit, page, min_supporters, as_json, diversity)
            return
        query = f"/v1/feed?limit={limit}&room={resolve_room(api, room)}"
        items = api.get(query)["items"]
        seen = {i["id"] for i in items}
        for item in reversed(items):
            out(as_json, item, render_item(item))
        while follow:
            time.sleep(1.0)
            fresh = [i for i in api.get(query)["items"] if i["id"] not in seen]
            for item in reversed(fresh):
                seen.add(item["id"])
                out(as_json, item, render_item(item))

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
            echo_data(data)
            return
        echo(render_item(data["post"]))
        for item in data["replies"]:
            echo(render_item(item, indent="    "))

    guarded(run)


@click.command()
@HOME
@JSON
def status(home: Path | None, as_json: bool) -> None:
    """Show the node: peers, chain, stored messages, refusals by reason."""

    def run() -> None:
        data = api_for(home).get("/v1/status")
        if as_json:
            echo_data(data, indent=2)
            return
        chain = data["chain"]
        health = "ok" if chain["healthy"] else f"NOT FOLLOWING: {inline(chain['last_error'])}"
        store = data["store"]
        messages = data["messages"]
        refused = ", ".join(f"{k} {v}" for k, v in messages["refused"].items()) or "none"
        lines = [
            f"node      {inline(data['name'])}  peer {data['peer_id']}",
            f"member    {_member_line(data)}"
            f"  app key {data['app_key'][:16]}… {'active' if data['app_key_active'] else 'NOT ACTIVE'}",
            f"peers     {data['peers']} connected, {data['mesh_peers']} in the mesh",
            *_network_lines(data.get("connectivity", {})),
            f"chain     {health}; head {chain['head']}, cursor {chain['cursor']}, lag {chain['lag_blocks']} blocks",
            f"stored    {store['post']} posts, {store['reaction']} reactions, {store['delete']} deletes, "
            f"{store['hidden']} hidden, {store['tombstones']} tombstones",
            f"messages  {messages['accepted']} accepted, {messages['published']} published by you; refused: {refused}",
            _sync_line(data.get("sync", {})),
            _rooms_line(data.get("rooms", {}), data.get("blobs", {})),
            _guard_line(data.get("guard", {}), messages),
            _throttle_line(messages.get("throttled", {})),
            *_sponsor_lines(data.get("sponsor", {})),
        ]
        echo("\n".join(lines))

    guarded(run)


def _network_lines(seen: dict[str, Any]) -> list[str]:
    """Reachability, the relay this node serves or uses, and hole punching (see ``kiez status --json``)."""
    if not seen:
        return []
    verdict = seen.get("reachability", "unknown")
    where = ", ".join(seen.get("observed", [])) or "nobody has dialled back yet"
    hop, client, punch = seen.get("relay_hop", {}), seen.get("relay_client", {}), seen.get("hole_punching", {})
    relay = (
        f"relaying for members ({hop.get('reservations', 0)} reservations, {hop.get('active_circuits', 0)} circuits)"
        if hop.get("serving")
        else f"through {len(client.get('relays', []))} relays"
        if verdict == "private"
        else "not relaying"
    )
    direct, relayed = len(punch.get("direct_peers", [])), len(seen.get("relayed_peers", []))
    return [f"network   {verdict} (seen at {where}); {relay}; peers direct by hole punch {direct}, relayed {relayed}"]


def _sponsor_lines(sponsor: dict[str, Any]) -> list[str]:
    """What this node paid for newcomers (nothing when it does not sponsor)."""
    if not sponsor.get("account"):
        return []
    if sponsor.get("problem"):
        return [f"sponsor   NOT SPONSORING: {inline(sponsor['problem'])}"]
    return [
        f"sponsor   paid {sponsor.get('today_tx', 0)} of {sponsor['tx_per_day']} transactions today, "
        f"{sponsor.get('total_tx', 0)} in all ({sponsor.get('total_wei', 0) / 1e18:.6f} ETH); "
        f"refused {sponsor['refused']}; account {sponsor['account']}"
    ]


def _sync_line(sync: dict[str, Any]) -> str:
    history = sync.get("history") or []
    if not history:
        return "sync      no session yet"
    last = history[-1]
    outcome = f"failed: {inline(last['error'])}" if last["error"] else f"{last['accepted']} new, {last['sent']} sent"
    return f"sync      {sync['sessions']} sessions; last with {last['peer'][:16]}…: {outcome}"


def _rooms_line(rooms: dict[str, Any], blobs: dict[str, Any]) -> str:
    following = len(rooms.get("following", []))
    return (
        f"rooms     {rooms.get('known', 0)} known, following {following}; attachments "
        f"{blobs.get('fetched', 0)} fetched, {blobs.get('served', 0)} served"
    )


def _throttle_line(throttled: dict[str, int]) -> str:
    """Members whose messages this node refused for going beyond the rate limit or a room's slow mode."""
    limit = f"burst {limits.RATE_BURST} then {limits.RATE_PER_SECOND:g}/s"
    if not throttled:
        return f"throttled nobody (rate limit per member: {limit})"
    who = ", ".join(f"{member[:6]}…{member[-4:]} {count}" for member, count in throttled.items())
    return f"throttled {who} (messages refused: over the rate limit, {limit}, or a room's slow mode)"


def _guard_line(guard: dict[str, Any], messages: dict[str, Any]) -> str:
    """Peers this node penalised: strikes by reason, bans, refused connections."""
    strikes = ", ".join(f"{k} {v}" for k, v in guard.get("strikes", {}).items()) or "none"
    late = sum(messages.get("late_rejects", {}).values())
    return (
        f"guard     strikes: {strikes}; {guard.get('bans', 0)} bans, "
        f"{guard.get('refused_connections', 0)} refused connections, {late} late rejects"
    )


@click.command()
@HOME
@JSON
@click.option("--known", is_flag=True, help="Show the address book: members' nodes from their signed peer records.")
def peers(home: Path | None, as_json: bool, known: bool) -> None:
    """List the peers this node is connected to (--known: every member's node it knows)."""

    def run() -> None:
        if known:
            records = api_for(home).get("/v1/peers/known")["records"]
            out(as_json, records, _address_book(records))
            return
        found = api_for(home).get("/v1/peers")["peers"]
        out(as_json, found, "\n".join(inline(p) for p in found) if found else "no peers connected")

    guarded(run)


def _address_book(records: list[dict[str, Any]]) -> str:
    """One block per member's node; the envelope (hex) only with --json, it is long."""
    if not records:
        return "no peer records known yet (they arrive from peers by gossip and sync)"
    blocks = []
    for r in records:
        hours = max(0, (r["expires_ms"] - int(time.time() * 1000)) // 3_600_000)
        state = "connected" if r["connected"] else "not connected"
        addrs = "\n".join(f"    {inline(a)}" for a in r["addrs"]) or "    (no address this node can parse)"
        blocks.append(f"{inline(r['member'])}  {r['peer_id']}  {state}, record valid {hours} h more\n{addrs}")
    return "\n".join(blocks)


COMMANDS = [post, reply, react, delete, feed, thread, status, peers]


def _member_line(status: dict[str, Any]) -> str:
    if not status["member"]:
        return "unknown (app key not registered?)"
    name = status.get("member_name", "")
    return status["member"] if name.startswith("0x") else f"{inline(name)} ({status['member']})"
