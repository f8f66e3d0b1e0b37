"""``kiez guest invite|end`` and ``kiez guests``: non-members invited to write in one room for a
while. The node signs the pass (or its end) like a post; who may invite and for how long is the
community's voted rule, and a refusal says which rule."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import inline
from node.api.client import ApiClient
from node.cli.toolkit import HOME, JSON, InputError, api_for, guarded, out, resolve_room, when

_SPAN = re.compile(r"([0-9]{1,4})([mhdw])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_KEY = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")


def until_ms(until: str, now_s: float | None = None) -> int:
    """The end of a pass from ``--until``: a span from now (90m, 12h, 3d, 2w) or an ISO date and
    time (read as UTC when it names no zone)."""
    now = time.time() if now_s is None else now_s
    found = _SPAN.fullmatch(until.strip())
    if found is not None:
        return int((now + int(found.group(1)) * _UNIT_S[found.group(2)]) * 1000)
    try:
        moment = datetime.fromisoformat(until.strip())
    except ValueError:
        wanted = "a span (90m, 12h, 3d, 2w) or a date and time (2026-05-01T18:00)"
        raise InputError(f"--until takes {wanted}, not {until!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _key(key: str) -> str:
    found = _KEY.fullmatch(key.strip())
    if found is None:
        raise InputError(f"KEY is the guest's app key, 64 hex digits (its node prints it), not {key!r}")
    return found.group(1).lower()


@click.group()
def guest() -> None:
    """Invite a non-member into one room for a while, or end their pass."""


@guest.command()
@click.argument("room")
@click.argument("key")
@click.option("--until", "until", required=True, help="When the pass ends: 90m, 12h, 3d, 2w or 2026-05-01T18:00.")
@click.option("--note", default="", help="Who the guest is, for the members.")
@HOME
@JSON
def invite(room: str, key: str, until: str, note: str, home: Path | None, as_json: bool) -> None:
    """Invite the app key KEY to post, reply and react in ROOM (a name or id) until --until."""

    def run() -> None:
        api = api_for(home)
        guest_key, ends = _key(key), until_ms(until)
        made = api.post("/v1/guests", {"room": resolve_room(api, room), "key": guest_key, "until": ends, "note": note})
        out(as_json, made, f"guest {guest_key[:8]}… invited until {when(ends)} UTC (pass {made['id']})")

    guarded(run)


@guest.command()
@click.argument("pass_id", metavar="PASS")
@HOME
@JSON
def end(pass_id: str, home: Path | None, as_json: bool) -> None:
    """End the guest pass PASS (its id or the start of it, as `kiez guests --all` shows)."""

    def run() -> None:
        api = api_for(home)
        found = _find_pass(api, pass_id)
        ended = api.post(f"/v1/guests/{found['id']}/end", {})
        out(as_json, ended, f"guest pass {found['id'][:12]}… of {inline(found['guest_name'])} ended")

    guarded(run)


def _find_pass(api: ApiClient, prefix: str) -> dict[str, Any]:
    wanted = prefix.strip().lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]{4,64}", wanted):
        raise InputError(f"PASS is a pass id (hex, at least its first 4 digits), not {prefix!r}")
    passes: list[dict[str, Any]] = api.get("/v1/guests?all=true")["passes"]
    matching = [p for p in passes if p["id"].startswith(wanted)]
    if len(matching) != 1:
        said = "no guest pass" if not matching else f"{len(matching)} guest passes"
        raise InputError(f"{said} on this node starts with {prefix!r}; `kiez guests --all` lists them")
    return matching[0]


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also the passes that ran out or were ended.")
@HOME
@JSON
def guests(everything: bool, home: Path | None, as_json: bool) -> None:
    """The guests invited now (with --all, every pass this node knows)."""

    def run() -> None:
        api = api_for(home)
        found = api.get("/v1/guests" + ("?all=true" if everything else ""))
        names = {r["id"]: r["name"] for r in api.get("/v1/rooms")["rooms"]} if found["passes"] else {}
        out(as_json, found, _render(found["passes"], names) or "no guests" + ("" if everything else " now"))

    guarded(run)


def _render(passes: list[dict[str, Any]], rooms: dict[str, str]) -> str:
    lines = []
    for p in passes:
        state = "active" if p["active"] else "ended" if p["ended_ms"] is not None else "not active"
        inviter = inline(p.get("inviter_name") or p["inviter"])
        room = inline(rooms.get(p["room"]) or p["room"][:12] + "…")
        lines.append(
            f"[{p['id'][:12]}]  {inline(p['guest_name'])}  in {room}  by {inviter}"
            f"  until {when(p['until_ms'])}  {state}" + (f"\n    {inline(p['note'])}" if p["note"] else "")
        )
    return "\n".join(lines)


COMMANDS = [guest, guests]
