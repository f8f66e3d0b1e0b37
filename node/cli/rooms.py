"""What a member types for rooms, events and polls: ``kiez rooms``, ``kiez room …``,
``kiez events``, ``kiez event …``, ``kiez poll …``. Like the other member commands, each one
talks to the member's own node through its local API.

Rooms may be named by id or by name (``--room garden``); times by a date and time in UTC
(``2026-12-05 18:00``, as every kiez command prints times) or relative to now (``+2h``, ``+3d``, ``+90m``).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import inline
from node.cli.toolkit import HOME, JSON, InputError, api_for, guarded, out, resolve_room, when

_RELATIVE = re.compile(r"^\+(\d+)([mhdw])$")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def parse_time(text: str, now_ms: int) -> int:
    """Milliseconds since 1970 for ``text``: ``+N[m|h|d|w]`` from ``now_ms``, or an ISO date and
    time (``2026-12-05 18:00``, UTC unless it names a zone)."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now_ms + int(relative.group(1)) * _UNIT_MS[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"cannot read the time {text!r}: use '2026-12-05 18:00' or '+2h', '+3d', '+90m'") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # as every kiez command prints times
    return int(moment.timestamp() * 1000)


def pick_option(options: list[str], choice: str) -> int:
    """An answer's option number from its number (1-based, as `kiez poll show` prints) or text."""
    if choice.isdigit() and 1 <= int(choice) <= len(options):
        return int(choice) - 1
    matching = [i for i, option in enumerate(options) if option.casefold() == choice.casefold()]
    if len(matching) == 1:
        return matching[0]
    listed = ", ".join(f"{i + 1}) {inline(o)}" for i, o in enumerate(options))
    raise InputError(f"{choice!r} is not one of the options: {listed}")


# ---------------------------------------------------------------------- rooms


@click.command()
@HOME
@JSON
def rooms(home: Path | None, as_json: bool) -> None:
    """List the community's rooms and which of them you follow."""

    def run() -> None:
        found = api_for(home).get("/v1/rooms")["rooms"]
        lines = ["  general  (open)  the community's own room; everybody follows it"]
        for room in found:
            mark = "*" if room["following"] else " "
            lock = "" if room["readable"] else "  [no key: not invited]"
            rules = (" creator-only" if room["creator_only"] else "") + (
                f" slow {room['slow_mode_s']}s" if room["slow_mode_s"] else ""
            )
            name, visibility, room_id = inline(room["name"]), inline(room["visibility"]), inline(room["id"])
            lines.append(f"{mark} {name}  ({visibility}{rules})  {room_id[:12]}…{lock}")
            if room["topic"]:
                lines.append(f"      {inline(room['topic'])}")
        lines.append("(* = you follow it)")
        out(as_json, found, "\n".join(lines))

    guarded(run)


@click.group()
def room() -> None:
    """Create, join, leave and invite to rooms."""


@room.command("create")
@click.argument("name")
@click.option("--topic", default="", help="What the room is about.")
@click.option(
    "--visibility",
    type=click.Choice(["open", "members", "private"]),
    default="open",
    show_default=True,
    help="open: anyone may read; members: sealed to all members; private: sealed to those invited.",
)
@click.option("--creator-only", is_flag=True, help="Only you may post (an announcements room).")
@click.option("--slow-mode", "slow_mode_s", default=0, type=click.IntRange(0, None), help="Seconds between posts.")
@HOME
@JSON
def room_create(
    name: str, topic: str, visibility: str, creator_only: bool, slow_mode_s: int, home: Path | None, as_json: bool
) -> None:
    """Create a room (you follow it at once)."""

    def run() -> None:
        body = {
            "name": name,
            "topic": topic,
            "visibility": visibility,
            "creator_only": creator_only,
            "slow_mode_s": slow_mode_s,
        }
        result = api_for(home).post("/v1/rooms", body)
        shown = f"created room {inline(name)} {result['room']}"
        if visibility == "private":
            shown += f"\ninvite members with: kiez room invite {result['room'][:12]} 0xADDRESS"
        out(as_json, result, shown)

    guarded(run)


def _room_action(home: Path | None, as_json: bool, room_name: str, action: str, body: dict[str, Any]) -> None:
    def run() -> None:
        api = api_for(home)
        room_id = resolve_room(api, room_name)
        if not room_id:
            raise InputError("everybody is in the general room")
        result = api.post(f"/v1/rooms/{room_id}/{action}", body)
        out(as_json, result, f"{action}: {inline(room_name)} ({room_id[:12]}…) ok")

    guarded(run)


@room.command("join")
@click.argument("room_name", metavar="ROOM")
@HOME
@JSON
def room_join(room_name: str, home: Path | None, as_json: bool) -> None:
    """Follow ROOM (by name or id): your node subscribes to its topic."""
    _room_action(home, as_json, room_name, "join", {})


@room.command("leave")
@click.argument("room_name", metavar="ROOM")
@HOME
@JSON
def room_leave(room_name: str, home: Path | None, as_json: bool) -> None:
    """Stop following ROOM; in a private room the others rotate its key without you."""
    _room_action(home, as_json, room_name, "leave", {})


@room.command("invite")
@click.argument("room_name", metavar="ROOM")
@click.argument("member")
@HOME
@JSON
def room_invite(room_name: str, member: str, home: Path | None, as_json: bool) -> None:
    """Give MEMBER (0x address) the key of the private ROOM."""
    _room_action(home, as_json, room_name, "invite", {"member": member})


# ---------------------------------------------------------------------- events


def render_event(event: dict[str, Any]) -> str:
    counts = event["counts"]
    answers = f"yes {counts['yes']}, maybe {counts['maybe']}, no {counts['no']}"
    where = f"  @ {inline(event['place'])}" if event["place"] else ""
    return (
        f"{when(event['starts_ms'])} – {when(event['ends_ms'])}  {inline(event['title'])}{where}\n"
        f"    [{inline(event['id'])[:12]}]  {answers}"
    )


@click.command()
@click.option("--room", "room_name", default="", help="Only this room's events (default: every room).")
@HOME
@JSON
def events(room_name: str, home: Path | None, as_json: bool) -> None:
    """List events with their RSVPs."""

    def run() -> None:
        api = api_for(home)
        query = f"?room={resolve_room(api, room_name)}" if room_name else ""
        found = api.get(f"/v1/events{query}")["events"]
        out(as_json, found, "\n".join(render_event(e) for e in found) if found else "no events yet")

    guarded(run)


@click.group()
def event() -> None:
    """Create events and answer them."""


@event.command("create")
@click.argument("title")
@click.option("--start", required=True, help="'2026-12-05 18:00' (UTC) or '+2d'.")
@click.option("--end", default=None, help="When it ends (default: two hours after the start).")
@click.option("--place", default="", help="A place or a link.")
@click.option("--room", "room_name", default="", help="Room (default: the general room).")
@HOME
@JSON
def event_create(
    title: str, start: str, end: str | None, place: str, room_name: str, home: Path | None, as_json: bool
) -> None:
    """Announce an event."""

    def run() -> None:
        api = api_for(home)
        now = int(time.time() * 1000)
        starts = parse_time(start, now)
        ends = starts + 2 * _UNIT_MS["h"] if end is None else parse_time(end, starts)
        body = {"title": title, "starts_ms": starts, "ends_ms": ends, "place": place}
        body["room"] = resolve_room(api, room_name)
        result = api.post("/v1/events", body)
        out(as_json, result, f"event {result['id']} on {when(starts)}")

    guarded(run)


@event.command("rsvp")
@click.argument("event_id")
@click.argument("answer", type=click.Choice(["yes", "no", "maybe"]))
@HOME
@JSON
def event_rsvp(event_id: str, answer: str, home: Path | None, as_json: bool) -> None:
    """Answer an event; a later answer replaces your earlier one."""

    def run() -> None:
        result = api_for(home).post(f"/v1/events/{event_id}/rsvp", {"answer": answer})
        out(as_json, result, f"answered {answer}")

    guarded(run)


# ---------------------------------------------------------------------- polls

_NOT_BINDING = "an opinion poll: not binding (binding decisions are `kiez gov` proposals, voted on-chain)"


def render_poll(poll: dict[str, Any], now_ms: int) -> str:
    total = sum(poll["tally"])
    state = (
        f"closed {when(poll['closes_ms'])}" if now_ms >= poll["closes_ms"] else f"open until {when(poll['closes_ms'])}"
    )
    question, poll_id = inline(poll["question"]), inline(poll["id"])
    lines = [f"{question}  [{poll_id[:12]}]  {state}, {total} answer{'s' if total != 1 else ''}"]
    options = [inline(o) for o in poll["options"]]
    width = max((len(o) for o in options), default=0)
    for index, (option, count) in enumerate(zip(options, poll["tally"], strict=True)):
        bar = "█" * round(20 * count / total) if total else ""
        lines.append(f"  {index + 1}) {option.ljust(width)}  {count:>3}  {bar}")
    return "\n".join(lines)


@click.group()
def poll() -> None:
    """Opinion polls: not binding, unlike `kiez gov` proposals."""


@poll.command("create")
@click.argument("question")
@click.argument("options", nargs=-1, required=True)
@click.option("--closes", required=True, help="'2026-12-05 18:00' (UTC) or '+3d'.")
@click.option("--room", "room_name", default="", help="Room (default: the general room).")
@HOME
@JSON
def poll_create(
    question: str, options: tuple[str, ...], closes: str, room_name: str, home: Path | None, as_json: bool
) -> None:
    """Ask QUESTION with two or more OPTIONS."""

    def run() -> None:
        api = api_for(home)
        closes_ms = parse_time(closes, int(time.time() * 1000))
        body = {"question": question, "options": list(options), "closes_ms": closes_ms}
        body["room"] = resolve_room(api, room_name)
        result = api.post("/v1/polls", body)
        out(as_json, result, f"poll {result['id']}, {_NOT_BINDING}")

    guarded(run)


@poll.command("answer")
@click.argument("poll_id")
@click.argument("choice")
@HOME
@JSON
def poll_answer(poll_id: str, choice: str, home: Path | None, as_json: bool) -> None:
    """Answer with CHOICE (its number or its text); until it closes, a later answer replaces yours."""

    def run() -> None:
        api = api_for(home)
        shown = api.get(f"/v1/polls/{poll_id}")
        option = pick_option(shown["options"], choice)
        result = api.post(f"/v1/polls/{poll_id}/answer", {"option": option})
        out(as_json, result, f"answered {option + 1}) {inline(shown['options'][option])}")

    guarded(run)


@poll.command("show")
@click.argument("poll_id", required=False)
@HOME
@JSON
def poll_show(poll_id: str | None, home: Path | None, as_json: bool) -> None:
    """Show a poll's tally (every node computes the same), or list the polls."""

    def run() -> None:
        api = api_for(home)
        found = [api.get(f"/v1/polls/{poll_id}")] if poll_id else api.get("/v1/polls")["polls"]
        now = int(time.time() * 1000)
        shown = "\n\n".join(render_poll(p, now) for p in found) if found else "no polls yet"
        out(as_json, found[0] if poll_id else found, f"{shown}\n({_NOT_BINDING})")

    guarded(run)


COMMANDS = [rooms, room, events, event, poll]
