"""``kiez feed --sort bridging|personal`` and ``kiez opinions``: the ranked feeds, each post with
why it is there, and the map of the community's groups of opinion (text, JSON or a PNG plot)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import echo, inline
from node.api.client import ApiClient
from node.cli.toolkit import HOME, JSON, InputError, api_for, echo_data, guarded, out, render_item, resolve_room

#: The mark of a post the diversity floor brought in from outside the member's usual circle.
OUTSIDE = "◇"


def show_ranked(
    api: ApiClient,
    sort: str,
    room: str,
    limit: int,
    page: int,
    min_supporters: int,
    as_json: bool,
    diversity: int = 20,
) -> None:
    """Prints one page of a ranked feed, best first, with each post's reasons under it."""
    params: dict[str, Any] = {"sort": sort, "limit": limit, "page": page, "min_supporters": min_supporters}
    if sort == "personal":
        params["diversity"] = diversity
    if room:
        params["room"] = resolve_room(api, room)
    found = api.get("/v1/ranking?" + urllib.parse.urlencode(params))
    if as_json:
        echo_data(found)
        return
    if not found["items"]:
        needed = f" (a post needs {min_supporters} distinct supporters)" if sort == "bridging" else ""
        echo(f"nothing to rank on page {page}{needed}")
    for item in found["items"]:
        mark = f"{OUTSIDE} " if item.get("outside") else ""
        echo(render_item(item))
        echo(f"    {mark}why: {'; '.join(inline(w) for w in item['why'])}")
    if found["more"]:
        echo(f"more: --page {page + 1}")


@click.command()
@click.option("--room", default="", help="Only this room, by name or id (default: every open room).")
@click.option("--poll", default=None, help="Only this poll (its id) and the posts of its room.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), help="Also draw the map as a PNG.")
@HOME
@JSON
def opinions(room: str, poll: str | None, plot: Path | None, home: Path | None, as_json: bool) -> None:
    """Show the groups of opinion in the community's poll answers and reactions: each group's
    size, the statements it agrees on, and those every group shares. Which member is in which
    group is never shown; groups of fewer than three members are only counted."""

    def run() -> None:
        api = api_for(home)
        params: dict[str, str] = {}
        if room:
            params["room"] = resolve_room(api, room)
        if poll:
            params["poll"] = poll
        found = api.get("/v1/opinions?" + urllib.parse.urlencode(params))
        if plot is not None:
            draw(found, plot)
        out(as_json, found, render_map(found) + (f"\nplot written to {plot}" if plot else ""))

    guarded(run)


def render_map(found: dict[str, Any]) -> str:
    """The map in words."""
    if not found["groups"]:
        return (
            f"no groups of opinion to show ({found['members']} members with enough answers and reactions; "
            "a map needs at least two groups of three)"
        )
    lines = [f"{len(found['groups'])} groups of opinion among {found['members']} members:"]
    for number, group in enumerate(found["groups"], 1):
        lines.append(f"  group {number}: {group['size']} members, agreeing on:")
        lines += [f"    {round(100 * s['agree'])}%  {inline(s['text'])}" for s in group["agrees"]]
    if found["hidden_groups"]:
        lines.append(f"  ({found['hidden_groups']} smaller groups not shown)")
    lines.append("every group agrees on:" if found["consensus"] else "no statement every group agrees on")
    lines += [f"  {inline(s['text'])}" for s in found["consensus"]]
    return "\n".join(lines)


def draw(found: dict[str, Any], path: Path) -> None:
    """The members' positions, coloured by group, unlabelled, as a PNG."""
    try:  # matplotlib is the optional 'plot' extra, so it is imported only when a plot is asked for
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'kiez[plot]'") from None
    figure, axes = plt.subplots(figsize=(5, 4))
    points = found["points"]
    axes.scatter([p[0] for p in points], [p[1] for p in points], c=[p[2] for p in points], cmap="tab10")
    axes.set_title(f"{len(found['groups'])} groups of opinion, {found['members']} members")
    axes.set_xticks([])
    axes.set_yticks([])
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)


COMMANDS = [opinions]
