"""Bringing a newcomer in by invite, for the namespace tests and ``scripts/bench_nat.py``.

Each step is the real one: the CLI (``kiez sponsor enable``, ``kiez invite``, ``kiez join``) run
in the namespace where that person's node is, a real transfer funding the sponsor account, and
real votes. ``run`` is how the CLI is started somewhere (``natnet.kiez_in`` bound to a lab).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from governance.accounts import create_keystore, dev_account, load_keystore
from governance.anvil import Anvil
from governance.types import Support
from node.config import NodeConfig
from node.errors import NodeError
from node.harness.cluster import Network
from node.harness.natnet import restart
from node.harness.process import wait_until
from node.sponsor.service import sponsor_account

PASSWORD = "kiez lab password"  # noqa: S105 - the throwaway keystores of a lab
ENV = {"KIEZ_PASSWORD": PASSWORD}
#: runs ``kiez ARGS`` in a namespace: (namespace, *args, env=…, timeout=…) -> the finished process
Run = Callable[..., subprocess.CompletedProcess[str]]


def _ok(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        raise NodeError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def fund(anvil: Anvil, address: str, wei: int = 10**17, funder_index: int = 6) -> None:
    """A plain ether transfer from an Anvil dev account (as a member would fund the sponsor)."""
    w3 = anvil.web3()
    funder = dev_account(funder_index)
    tx = {
        "to": address,
        "value": wei,
        "gas": 21_000,
        "gasPrice": w3.eth.gas_price,
        "nonce": w3.eth.get_transaction_count(funder.address),
        "chainId": w3.eth.chain_id,
    }
    raw = funder.sign_transaction(cast(Any, tx)).raw_transaction
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))


def make_sponsor(
    net: Network, anvil: Anvil, index: int, ns: str, run: Run, on_chain: Callable[[Callable[[], None]], None]
) -> None:
    """Founder ``index``'s node becomes a funded sponsor (its keystore holds the founder's key)."""
    node = net.nodes[index]
    create_keystore(node.config.keystore_path, PASSWORD, bytes(net.dev.founders[index].key))
    _ok(run(ns, "sponsor", "enable", "--home", str(node.config.home), env=ENV), "kiez sponsor enable")
    account = sponsor_account(NodeConfig.load(node.config.home))
    if account is None:
        raise NodeError("kiez sponsor enable made no sponsor account")
    on_chain(lambda: fund(anvil, account.address))
    node.config = NodeConfig.load(node.config.home)  # with the sponsor settings just saved
    restart(node)


def invite(net: Network, index: int, ns: str, run: Run) -> str:
    """An invite text from founder ``index``'s node (``kiez invite``)."""
    node = net.nodes[index]
    wait_until(lambda: node.api.get("/v1/peers/known")["records"], 60, f"{node.name} knows its own record")
    out = _ok(run(ns, "invite", "--no-qr", "--home", str(node.config.home), env=ENV), "kiez invite")
    return next(line for line in out.splitlines() if line.startswith("kiez:"))


def join(run: Run, ns: str, home: Path, text: str, *args: str) -> str:
    """``kiez join`` in namespace ``ns``; its output."""
    return _ok(
        run(ns, "join", text, "--intro", "a newcomer", "--home", str(home), *args, env=ENV, timeout=300), "kiez join"
    )


def newcomer(home: Path) -> str:
    return load_keystore(home / "keystore.json", PASSWORD).address


def vote_in(net: Network, account: str, voters: tuple[int, ...]) -> None:
    """The founders ``voters`` vote for admitting ``account`` (call it where the chain is)."""
    subject_tail = bytes.fromhex(account[2:])
    proposal = next(p for p in net.client(0).proposals() if p.subject.endswith(subject_tail))
    for voter in voters:
        net.client(voter).cast_vote(proposal.id, Support.FOR)
