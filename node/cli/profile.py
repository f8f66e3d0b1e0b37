"""``kiez profile``: the name, bio, avatar and links you show the community, and theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from governance.cli.terminal import inline, printable
from node.api.client import ApiClient
from node.cli.member import upload
from node.cli.toolkit import HOME, JSON, api_for, guarded, out
from node.config import NodeConfig, default_home
from node.core import limits
from node.errors import NodeError


@click.group()
def profile() -> None:
    """Your profile (kiez profile set) and the community's (kiez profile show, kiez profile list)."""


@profile.command(name="set")
@click.option("--name", required=True, help=f"Your display name (at most {limits.MAX_NAME_BYTES} bytes).")
@click.option("--bio", default="", help=f"A few words about you (at most {limits.MAX_BIO_BYTES} bytes).")
@click.option(
    "--avatar",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A picture (PNG, JPEG, WebP or GIF), within the community's media caps.",
)
@click.option("--link", "links", multiple=True, help=f"An https:// link (at most {limits.MAX_LINKS}).")
@HOME
@JSON
def set_profile(
    name: str, bio: str, avatar: Path | None, links: tuple[str, ...], home: Path | None, as_json: bool
) -> None:
    """Set your profile; every member's node shows the latest one, wherever it would show your
    address. Names are not unique: where two members share one, both show their address too."""

    def run() -> None:
        api = api_for(home)
        body: dict[str, Any] = {"name": name, "bio": bio, "links": list(links), "avatar": None}
        if avatar is not None:
            body["avatar"] = upload(api, avatar)
        made = api.post("/v1/profile", body)
        out(as_json, made, f"profile set ({inline(made['id'])[:16]}…): you are shown as {inline(name)}")

    guarded(run)


@profile.command()
@click.argument("member", required=False)
@HOME
@JSON
def show(member: str | None, home: Path | None, as_json: bool) -> None:
    """Show MEMBER's profile (an address; default: yours)."""

    def run() -> None:
        api = api_for(home)
        who = member or api.get("/v1/status")["member"]
        found = api.get(f"/v1/profiles/{who}")
        out(as_json, found, describe(found))

    guarded(run)


@profile.command(name="list")
@HOME
@JSON
def list_profiles(home: Path | None, as_json: bool) -> None:
    """List every current member's profile."""

    def run() -> None:
        found = api_for(home).get("/v1/profiles")["profiles"]
        out(as_json, found, "\n\n".join(describe(p) for p in found) or "no member has set a profile yet")

    guarded(run)


def describe(found: dict[str, Any]) -> str:
    lines = [f"{inline(found['shown_as'])}  {inline(found['member'])}"]
    if found["bio"]:
        lines.append("    " + printable(found["bio"]).replace("\n", "\n    "))
    lines += [f"    🔗 {inline(link)}" for link in found["links"]]
    if found["avatar"]:
        avatar = found["avatar"]
        state = "" if avatar["held"] else "  (fetching)"
        lines.append(f"    🖼 {inline(avatar['mime'])}  /v1/blobs/{inline(avatar['sha256'])}{state}")
    return "\n".join(lines)


COMMANDS = [profile]


def local_names(community: str) -> dict[str, str]:
    """The names this machine's node (KIEZ_HOME) shows for ``community``'s members, for
    ``kiez gov`` listings; none when no node is set up, it follows another community, or it is
    not running (a listing of addresses is still right, only less friendly)."""
    try:
        config = NodeConfig.load(default_home())
        if config.community.lower() != community.lower():
            return {}
        profiles: list[dict[str, Any]] = ApiClient.for_node(config).get("/v1/profiles")["profiles"]
    except (NodeError, OSError, ValueError):
        return {}
    return {str(p["member"]): str(p["shown_as"]) for p in profiles}
