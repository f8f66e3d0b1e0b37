"""``kiez open``: the web app of your node, in your browser."""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path

import click

from governance.cli.terminal import echo
from node.cli.toolkit import HOME, api_for, guarded


@click.command(name="open")
@HOME
@click.option("--no-browser", is_flag=True, help="Only print the URL; do not start a browser.")
def open_app(home: Path | None, no_browser: bool) -> None:
    """Print a one-time login URL for your node's web app (and open it where a desktop is).

    The link works once, for two minutes, from this machine only; it logs that browser in with a
    session cookie that lasts until the node restarts or 12 hours pass unused."""

    def run() -> None:
        answer = api_for(home).post("/v1/web/login", {})
        url = str(answer["url"])
        echo(f"open this link in your browser (it works once, for {answer['expires_in_s']} s):\n{url}")
        if not no_browser and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            webbrowser.open(url)

    guarded(run)


COMMANDS = [open_app]
