"""How the devnet tells its story (``Narrator``: numbered steps, who did what, the gas of each
transaction), and its scenes where members introduce themselves (profiles), talk to each other
(a reply, a mention, a reaction), agree on a charter whose text every node can check against the
hash on the chain, and in the end one member catches up: their notifications and digest."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from governance.client import TxResult
from governance.types import ProposalState, Support
from node.cli.digest import render_digest
from node.cli.notices import render_notice
from node.harness.onboarding import PASSWORD
from node.harness.process import wait_until

if TYPE_CHECKING:
    from node.harness.scenario import Devnet


@dataclass
class Narrator:
    """Prints the scenario as it happens and keeps the gas each kind of transaction used."""

    gas: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    step_no: int = 0

    def step(self, text: str) -> None:
        self.step_no += 1
        click.secho(f"\n{self.step_no}. {text}", bold=True)

    def did(self, who: str, what: str, result: TxResult | None = None, kind: str | None = None) -> None:
        suffix = ""
        if result is not None:
            suffix = click.style(f"  (gas {result.gas_used:,})", dim=True)
            if kind:
                self.gas[kind].append(result.gas_used)
        click.echo(f"   {who:<6} {what}{suffix}")

    def refused(self, who: str, what: str, error: Exception) -> None:
        click.echo(f"   {who:<6} {what} → " + click.style(f"refused: {error}", fg="yellow"))


CHARTER = "Be kind. Share tools. Decide together.\nWhat the members vote stands until they vote again."
BIOS = {
    "alice": "Runs the tool library on Thursdays",
    "bob": "Bikes, bees and broken radios",
    "carol": "Keeps the community garden's calendar",
    "dana": "New in the neighbourhood",
}
WAIT = 60.0


def introduce(devnet: Devnet, names: list[str]) -> None:
    """Each of ``names`` sets a profile on their node; every node then shows their name."""
    for name in names:
        body = {"name": name.title(), "bio": BIOS.get(name, "A neighbour")}
        made = devnet.nodes[name].api.post("/v1/profile", body)
        devnet.say.did(name, f"set a profile ({made['id'][:12]}…): shown as {name.title()}")
    address = {name: devnet.accounts[name].address for name in names}

    def everywhere() -> bool:
        for node in devnet.nodes.values():
            shown = {p["member"]: p["shown_as"] for p in node.api.get("/v1/profiles")["profiles"]}
            if any(shown.get(address[name]) != name.title() for name in names):
                return False
        return True

    wait_until(everywhere, WAIT, "every node to show the members' names")


def agree_on_charter(devnet: Devnet) -> None:
    """Alice proposes the charter's text from her node (it travels as a post that the proposal
    cites); the others vote; once executed every node shows the text checked against its hash."""
    devnet.say.step("Alice proposes the charter's text; the others vote; every node checks it against the chain")
    alice = devnet.nodes["alice"].api
    body = {"kind": "set_charter", "text": CHARTER, "description": "our charter", "passphrase": PASSWORD}
    made = alice.post("/v1/gov/proposals", body)
    number = made["number"]
    devnet.say.did("alice", f"proposed #{number}: the charter, its text in a post of hers")
    vote = {"support": "for", "passphrase": PASSWORD}
    alice.post(f"/v1/gov/proposals/{number}/vote", vote)
    devnet.say.did("alice", "voted for, from her node (its keystore signs)")
    c = devnet.c
    for name in [n for n in devnet.names if n != "alice"]:
        if c[name].proposal(number).state is not ProposalState.ACTIVE:
            break  # decided early: the votes left could not change the outcome
        voted = c[name].cast_vote(c[name].proposal_id(number), Support.FOR)
        devnet.say.did(name, "voted for", voted, "castVote")
    devnet.say.did("carol", f"executed #{number}", c["carol"].execute(c["carol"].proposal(number)), "execute")
    wait_until(
        lambda: all(node.api.get("/v1/gov/charter")["matches"] is True for node in devnet.nodes.values()),
        WAIT,
        "every node to hold the charter's text",
    )
    devnet.say.did("", f"all {len(devnet.nodes)} nodes show the charter with ✓ (its keccak-256 is the chain's)")


def converse(devnet: Devnet) -> None:
    """Bob answers Alice's post and mentions Carol, Carol reacts to it: each is told on their own
    node, and nobody else is."""
    devnet.say.step("Bob answers Alice and mentions @Carol; Carol reacts; each is told on their own node")
    question = devnet.posts["alice"]
    text = "I'll bring my toaster. @Carol, your radio too?"
    reply = devnet.nodes["bob"].api.post("/v1/posts", {"text": text, "parent": question})
    mentioned = ", ".join(m["member_name"] for m in reply["mentions"])
    devnet.say.did("bob", f"replied {reply['id'][:12]}… to alice's post, mentioning {mentioned}")
    devnet.nodes["carol"].api.post("/v1/reactions", {"target": question, "reaction": "👍"})
    devnet.say.did("carol", "reacted 👍 to alice's post")

    def told() -> bool:
        return {"reply", "reaction"} <= _kinds(devnet, "alice") and "mention" in _kinds(devnet, "carol")

    wait_until(told, WAIT, "alice and carol to be told on their nodes")


def _kinds(devnet: Devnet, name: str) -> set[str]:
    return {str(n["kind"]) for n in devnet.nodes[name].api.get("/v1/notifications")["items"]}


def catch_up(devnet: Devnet, name: str, since_ms: int) -> None:
    """What ``name``'s node tells them: their notifications and the digest since ``since_ms``,
    as ``kiez notifications`` and ``kiez digest`` print them."""
    api = devnet.nodes[name].api
    found = api.get("/v1/notifications?limit=20")
    click.secho(f"\n{name.title()}'s notifications ({found['unread']} unread)", bold=True)
    click.echo("\n".join(render_notice(item) for item in found["items"]) or "  (none)")
    click.secho(f"\n{name.title()}'s digest", bold=True)
    click.echo(render_digest(api.get(f"/v1/digest?since_ms={since_ms}")))
