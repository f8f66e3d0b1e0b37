"""The devnet's admission, as a newcomer meets it: an invite, ``kiez join``, a vote, no ether.

Alice's node becomes a sponsor (``kiez sponsor enable``, funded by a transfer), she prints an
invite with ``kiez invite``, the newcomer runs ``kiez join`` with a brand-new account (its
balance is shown before and after: 0), Bob votes with a signed ballot that Carol relays, Alice
votes, and ``kiez join`` run again finishes through Alice's node. Each command is the real CLI,
run where that person's node is (their namespace with ``--netns``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from governance.accounts import create_keystore, load_keystore
from governance.types import Support
from node.config import NodeConfig
from node.errors import NodeError
from node.harness.natnet import kiez_in
from node.harness.onboarding import ENV, PASSWORD, fund
from node.harness.process import NodeProcess, free_port
from node.sponsor.service import sponsor_account

if TYPE_CHECKING:
    from node.harness.scenario import Devnet


def _cli(devnet: Devnet, name: str) -> Callable[..., str]:
    """Runs ``kiez ARGS`` as ``name`` would (in their namespace with a lab); returns the output."""

    def run(*args: str) -> str:
        if devnet.lab is not None:
            done = kiez_in(devnet.lab, devnet.spot(name), *args, env=ENV, timeout=300)
        else:
            command = [sys.executable, "-m", "node.cli", *args]
            done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=300, check=False)
        if done.returncode != 0:
            raise NodeError(f"kiez {args[0]} as {name} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    return run


def _env() -> dict[str, str]:
    return {**os.environ, **ENV}


def _show(who: str, output: str) -> None:
    for line in output.splitlines():
        if line.strip():
            click.echo(f"   {who:<6} │ {line[:150]}")


def make_alice_sponsor(devnet: Devnet) -> None:
    alice = devnet.nodes["alice"]
    if not alice.config.keystore_path.exists():  # the devnet's homes get one when they start
        create_keystore(alice.config.keystore_path, PASSWORD, bytes(devnet.accounts["alice"].key))
    _show("alice", _cli(devnet, "alice")("sponsor", "enable", "--per-day", "10", "--home", str(alice.config.home)))
    account = sponsor_account(NodeConfig.load(alice.config.home))
    assert account is not None
    fund(devnet.anvil, account.address, 10**17, funder_index=8)
    devnet.say.did("alice", f"funded her node's sponsor account {account.address} with 0.1 ETH and restarted it")
    alice.stop()
    alice.config = NodeConfig.load(alice.config.home)
    alice.start()


def admit_by_invite(devnet: Devnet) -> NodeProcess:
    """The whole admission; returns the newcomer's started node."""
    newcomer = devnet.newcomer
    make_alice_sponsor(devnet)
    alice = devnet.nodes["alice"]
    text = next(
        line
        for line in _cli(devnet, "alice")(
            "invite", "--no-qr", "--note", "welcome!", "--home", str(alice.config.home)
        ).splitlines()
        if line.startswith("kiez:")
    )
    devnet.say.did("alice", f"kiez invite → {text[:40]}… ({len(text)} characters; also as a QR code)")
    home = devnet.root / newcomer
    host = "127.0.0.1" if devnet.lab is None else devnet.lab.address_of(devnet.spot(newcomer))
    join = _cli(devnet, newcomer)
    args = ["join", text, "--intro", f"Hi, I'm {newcomer.title()}; I repair radios.", "--home", str(home)]
    ports = ["--p2p-host", host, "--p2p-port", str(free_port()), "--api-port", str(free_port())]
    _show(newcomer, join(*args, "--no-wait", *ports))
    account = load_keystore(home / "keystore.json", PASSWORD)
    devnet.accounts[newcomer] = account
    devnet.c[newcomer] = devnet.client.with_account(account)
    _vote(devnet, account.address)
    _show(newcomer, join(*args))
    balance = devnet.client.w3.eth.get_balance(account.address)
    devnet.say.did(newcomer, f"balance of {account.address}: {balance} wei, before and after")
    _book_gas(devnet, alice.api.get("/v1/status")["sponsor"])
    namespace = None if devnet.lab is None else devnet.lab.thread(devnet.spot(newcomer))
    return NodeProcess(NodeConfig.load(home), namespace=namespace).start()


def _vote(devnet: Devnet, applicant: str) -> None:
    c = devnet.c
    tail = bytes.fromhex(applicant[2:])
    admit = next(p for p in devnet.client.proposals() if p.subject.endswith(tail))
    ballot = c["bob"].sign_ballot(admit.id, Support.FOR)
    devnet.say.did("bob", "signed a ballot offline (EIP-712) instead of sending a transaction")
    devnet.say.did("carol", "relayed bob's signed ballot", c["carol"].relay_ballot(ballot), "castVoteBySig")
    devnet.say.did("alice", "voted for", c["alice"].cast_vote(admit.id, Support.FOR), "castVote")


def _book_gas(devnet: Devnet, sponsor: dict[str, Any]) -> None:
    kinds = {"join": "requestToJoinBySig", "execute": "execute", "key": "addKeyBySig"}
    for paid in sponsor.get("last", []):
        devnet.say.gas[kinds.get(paid["what"], paid["what"])].append(int(paid["gas"]))
