"""``kiez devnet``: a whole local community on one machine, with a scenario a newcomer can watch.

It starts a real Anvil chain, founds a community with three members from Anvil's dev accounts,
and walks through the decisions a community makes: app keys, a moderator, a hidden post and an
attempt to overturn it, a newcomer's request and admission (one vote cast by a relayed signed
ballot), a vote refused because the voter joined after the proposal, a rules change, and a
removal. Every step is a real transaction; the summary at the end is read back from the chain.
"""

from __future__ import annotations

import hashlib
import signal
import socket
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from types import FrameType

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from governance.accounts import dev_account
from governance.anvil import Anvil, start_anvil
from governance.client import CommunityClient, TxResult, deploy_community
from governance.errors import GovernanceError
from governance.humanize import format_time
from governance.present import describe_rules, proposals_table, table
from governance.types import Rules, Support

NAMES = ["alice", "bob", "carol", "dana", "emil", "fatma", "goran", "hana"]
DEVNET_RULES = Rules(quorum_pct=50, threshold_pct=50, voting_period=3600)


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

    def refused(self, who: str, what: str, error: GovernanceError) -> None:
        click.echo(f"   {who:<6} {what} → " + click.style(f"refused: {error}", fg="yellow"))


def app_key() -> bytes:
    """A fresh ed25519 public key, as a member's node would create."""
    return Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _port_free(port: int) -> bool:
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Scenario:
    """The governance story, one method per step; every step is a real transaction."""

    anvil: Anvil
    founders: int
    say: Narrator
    c: dict[str, CommunityClient] = field(default_factory=dict)
    accounts: list[LocalAccount] = field(default_factory=list)

    @property
    def newcomer(self) -> str:
        return NAMES[self.founders]

    def run(self) -> CommunityClient:
        """Runs every step; returns a read-only client of the community it founded."""
        base = self.found()
        self.app_keys()
        self.moderator()
        post = self.hide_and_overturn()
        self.admission()
        self.rules_change()
        self.removal(post)
        return base

    def found(self) -> CommunityClient:
        names = NAMES[: self.founders + 1]
        self.accounts = [dev_account(i) for i in range(self.founders + 1)]
        self.say.step(f"Founding the community with {', '.join(names[: self.founders])}")
        base = deploy_community(
            self.anvil.web3(),
            dev_account(9),
            "Kiez am Kanal",
            [a.address for a in self.accounts[: self.founders]],
            rules=DEVNET_RULES,
            charter_hash=keccak(text="Be kind. Share tools. Decide together."),
        )
        self.c = {name: base.with_account(acct) for name, acct in zip(names, self.accounts, strict=True)}
        click.echo(f"   contract {base.address} on chain {base.chain_id}; rules: {describe_rules(DEVNET_RULES)}")
        for name, acct in zip(names[: self.founders], self.accounts[: self.founders], strict=True):
            click.echo(f"   {name:<6} {acct.address}")
        return base

    def app_keys(self) -> None:
        self.say.step("Every founder authorises an app key for their node (no vote needed)")
        for name in NAMES[: self.founders]:
            self.say.did(name, "added an ed25519 app key", self.c[name].add_key(app_key()), "addKey")

    def moderator(self) -> None:
        say, c = self.say, self.c
        say.step("Alice proposes to make Bob a moderator; the others vote")
        created, result = c["alice"].propose_grant_moderator(
            self.accounts[1].address, "Bob keeps the tool library tidy"
        )
        say.did("alice", f"proposed #{created.number}: grant-moderator bob", result, "propose")
        say.did("alice", "voted for", c["alice"].cast_vote(created.proposal_id, Support.FOR), "castVote")
        say.did("carol", "voted for", c["carol"].cast_vote(created.proposal_id, Support.FOR), "castVote")
        say.did("carol", f"executed #{created.number}: bob is a moderator", c["carol"].execute(created), "execute")

    def hide_and_overturn(self) -> bytes:
        say, c = self.say, self.c
        post = hashlib.sha256(b"FREE BIKES!!! click here").digest()
        say.step("Bob, as moderator, hides a spam post at once; Carol asks the community to overturn it")
        say.did("bob", f"hid post 0x{post.hex()[:16]}…", c["bob"].moderator_hide(post, "spam link"), "moderatorHide")
        overturn, result = c["carol"].propose_unhide_post(post, "maybe the bikes are real?")
        say.did("carol", f"proposed #{overturn.number}: unhide the post", result, "propose")
        say.did("alice", "voted against", c["alice"].cast_vote(overturn.proposal_id, Support.AGAINST), "castVote")
        say.did("bob", "voted against", c["bob"].cast_vote(overturn.proposal_id, Support.AGAINST), "castVote")
        state = c["alice"].state(overturn.proposal_id)
        say.did("", f"#{overturn.number} is {state.label}: the post stays hidden")
        return post

    def admission(self) -> None:
        say, c, newcomer = self.say, self.c, self.newcomer
        say.step(f"{newcomer.title()} asks to join; the members decide")
        charter, result = c["carol"].propose_set_charter(
            keccak(text="Be kind. Share tools. Decide together. Meet on Sundays."), "add our Sunday meetings"
        )
        say.did("carol", f"proposed #{charter.number}: a new charter (before {newcomer} joins)", result, "propose")
        intro = f"Hi, I'm {newcomer.title()}; I repair radios."
        say.did(newcomer, "filed a join request", c[newcomer].request_to_join(keccak(text=intro)), "requestToJoin")
        admit, result = c["alice"].propose_add_member(self.accounts[self.founders].address, "she fixed my radio")
        say.did("alice", f"proposed #{admit.number}: add-member {newcomer}", result, "propose")
        ballot = c["bob"].sign_ballot(admit.proposal_id, Support.FOR)
        say.did("bob", "signed a ballot offline (EIP-712) instead of sending a transaction")
        say.did("carol", "relayed bob's signed ballot", c["carol"].relay_ballot(ballot), "castVoteBySig")
        say.did("alice", "voted for", c["alice"].cast_vote(admit.proposal_id, Support.FOR), "castVote")
        say.did(newcomer, "admitted", c[newcomer].execute(admit), "execute")
        say.did(newcomer, "added an ed25519 app key", c[newcomer].add_key(app_key()), "addKey")
        try:
            c[newcomer].cast_vote(charter.proposal_id, Support.FOR)
        except GovernanceError as exc:
            say.refused(newcomer, f"tried to vote on #{charter.number}", exc)

    def rules_change(self) -> None:
        say, c = self.say, self.c
        say.step("The members change their rules: proposals now stay open for two days")
        new_rules = Rules(DEVNET_RULES.quorum_pct, 60, 2 * 24 * 3600)
        proposal, result = c["bob"].propose_change_rules(new_rules, "more time to think, a clearer majority")
        say.did("bob", f"proposed #{proposal.number}: {describe_rules(new_rules)}", result, "propose")
        for name in ("alice", "bob", self.newcomer):
            say.did(name, "voted for", c[name].cast_vote(proposal.proposal_id, Support.FOR), "castVote")
        say.did("carol", "executed the rules change", c["carol"].execute(proposal), "execute")

    def removal(self, post: bytes) -> None:
        say, c, newcomer = self.say, self.c, self.newcomer
        say.step(f"The community removes {newcomer}")
        removal, result = c["alice"].propose_remove_member(
            self.accounts[self.founders].address, "sold the shared radio"
        )
        say.did("alice", f"proposed #{removal.number}: remove-member {newcomer}", result, "propose")
        for name in ("alice", "bob", "carol"):
            say.did(name, "voted for", c[name].cast_vote(removal.proposal_id, Support.FOR), "castVote")
        done = c["bob"].execute(removal)
        say.did("bob", f"executed #{removal.number}: {newcomer} is no longer a member", done, "execute")
        try:
            c[newcomer].propose_hide_post(post, "revenge")
        except GovernanceError as exc:
            say.refused(newcomer, "tried to propose", exc)


def print_summary(client: CommunityClient, say: Narrator) -> None:
    click.secho("\nWhat the chain says now", bold=True)
    members = client.members()
    rows = [(m.address, format_time(m.joined_at), "moderator" if m.moderator else "member") for m in members]
    click.echo(table(["member", "joined", "role"], rows))
    click.echo(f"rules: {describe_rules(client.rules())}\n")
    click.echo(proposals_table(client.proposals()))
    click.secho("\nGas per operation", bold=True)
    gas_rows = [(op, len(v), f"{min(v):,}", f"{max(v):,}") for op, v in say.gas.items()]
    click.echo(table(["operation", "count", "min gas", "max gas"], gas_rows))


def _wait_for_ctrl_c() -> None:
    stop = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        while not stop:
            signal.pause() if hasattr(signal, "pause") else None
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command()
@click.option("--port", default=8545, show_default=True, help="Port of the local chain on 127.0.0.1 (0: any free).")
@click.option("--founders", default=3, show_default=True, type=click.IntRange(3, 7), help="Founding members.")
@click.option("--keep", is_flag=True, help="Keep the chain running afterwards and show how to use the CLI on it.")
def devnet(port: int, founders: int, keep: bool) -> None:
    """Run a local community: a real Anvil chain, a community and a guided governance scenario."""
    if not _port_free(port):
        raise click.ClickException(f"port {port} on 127.0.0.1 is in use (another devnet?): try --port 0")
    click.secho("kiez devnet", bold=True)
    try:
        with start_anvil(port=port) as anvil:
            click.echo(f"   local chain (Anvil) at {anvil.rpc_url}")
            say = Narrator()
            client = Scenario(anvil, founders, say).run()
            print_summary(client, say)
            click.secho("\nThe scenario ran to the end.", fg="green", bold=True)
            if keep:
                click.echo(
                    "\nThe chain keeps running. In another shell:\n"
                    f"  export KIEZ_RPC={anvil.rpc_url} KIEZ_COMMUNITY={client.address} KIEZ_DEV_ACCOUNT=0\n"
                    "  .venv/bin/kiez gov proposals      (dev accounts 0-2 are members; 0 is alice)\n"
                    "Press Ctrl-C to stop it."
                )
                _wait_for_ctrl_c()
                click.echo("\nstopping the chain")
    except GovernanceError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted; the chain is stopped", err=True)
        sys.exit(130)
