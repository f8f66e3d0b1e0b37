"""A newcomer behind a home NAT joins with nothing but an invite, and never holds ether.

Alice's node is on a public host and sponsors; Bob's node is behind one home's NAT; Carol votes
from the chain only. Dana, behind another home's NAT, gets Alice's invite text, runs
`kiez join` at home, is voted in, runs `kiez join` again to finish, starts her node there and
posts: every node accepts the post. Her account's balance is 0 before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from governance.accounts import create_keystore, dev_account, load_keystore
from governance.anvil import Anvil
from governance.client import checksum
from governance.types import Support
from node.config import NodeConfig
from node.harness.cluster import Network
from node.harness.natlab import NatLab
from node.harness.natnet import NODE_API_PORT, NODE_P2P_PORT, kiez_in, lab_node, restart, start_nat_network
from node.harness.process import NodeProcess, until_accepted, wait_until
from node.sponsor.service import sponsor_account

LAB_HOMES = 2
LAB_PUBLICS = 1
PASSWORD = "lab password"
ENV = {"KIEZ_PASSWORD": PASSWORD}
INTRO = "Dana from the corner house"


@pytest.fixture(scope="module")
def net(nat_lab: NatLab, lab_anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    spots = [nat_lab.public(0), nat_lab.home(0)]
    network = start_nat_network(
        nat_lab,
        lab_anvil,
        tmp_path_factory.mktemp("invite"),
        spots,
        size=3,
        configure=lambda c: c.with_changes(sync_interval=2.0),
    )
    try:
        alice = network.nodes[0]
        create_keystore(alice.config.keystore_path, PASSWORD, bytes(network.dev.founders[0].key))
        done = kiez_in(nat_lab, nat_lab.public(0), "sponsor", "enable", "--home", str(alice.config.home), env=ENV)
        assert done.returncode == 0, done.stderr
        sponsor = sponsor_account(NodeConfig.load(alice.config.home))
        assert sponsor is not None
        nat_lab.on_chain(lambda: _fund(lab_anvil, sponsor.address))
        alice.config = NodeConfig.load(alice.config.home)  # with the sponsor settings just saved
        restart(alice)
        yield network
    finally:
        network.stop()


def _fund(anvil: Anvil, address: str) -> None:
    w3 = anvil.web3()
    funder = dev_account(6)
    tx = {
        "to": address,
        "value": 10**17,
        "gas": 21_000,
        "gasPrice": w3.eth.gas_price,
        "nonce": w3.eth.get_transaction_count(funder.address),
        "chainId": w3.eth.chain_id,
    }
    raw = funder.sign_transaction(cast(Any, tx)).raw_transaction
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))


@pytest.fixture(scope="module")
def invite_text(nat_lab: NatLab, net: Network) -> str:
    alice = net.nodes[0]
    wait_until(lambda: alice.api.get("/v1/peers/known")["records"], 60, "alice's node knows its record")
    result = kiez_in(nat_lab, nat_lab.public(0), "invite", "--no-qr", "--home", str(alice.config.home), env=ENV)
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if line.startswith("kiez:"))


def _join(nat_lab: NatLab, home: Path, invite: str, *extra: str) -> str:
    ns = nat_lab.home(1)
    where = ["--home", str(home), "--p2p-host", nat_lab.home_address(1)]
    ports = ["--p2p-port", str(NODE_P2P_PORT), "--api-port", str(NODE_API_PORT)]
    result = kiez_in(nat_lab, ns, "join", invite, "--intro", INTRO, *where, *ports, *extra, env=ENV, timeout=300)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result.stdout


def _balance(nat_lab: NatLab, net: Network, account: str) -> int:
    return int(nat_lab.on_chain(lambda: net.client(0).w3.eth.get_balance(checksum(account))))


def test_a_newcomer_behind_a_nat_joins_by_invite_and_posts_to_every_node(
    nat_lab: NatLab, net: Network, invite_text: str, tmp_path: Path
) -> None:
    home = tmp_path / "dana"
    filed = _join(nat_lab, home, invite_text, "--no-wait")
    assert "your request is proposal #" in filed
    dana = load_keystore(home / "keystore.json", PASSWORD).address
    assert _balance(nat_lab, net, dana) == 0

    def vote() -> None:
        client = net.client(0)
        proposal = next(p for p in client.proposals() if p.subject.endswith(bytes.fromhex(dana[2:])))
        for voter in (1, 2):
            net.client(voter).cast_vote(proposal.id, Support.FOR)

    nat_lab.on_chain(vote)
    finished = _join(nat_lab, home, invite_text)
    assert "you are a member" in finished
    assert "authorised" in finished
    assert _balance(nat_lab, net, dana) == 0

    node: NodeProcess = lab_node(nat_lab, nat_lab.home(1), NodeConfig.load(home)).start()
    try:
        answer = until_accepted(lambda: node.api.post("/v1/posts", {"text": "hello from behind my router"}), "a post")
        net.wait_post(answer["id"])  # Alice's public node and Bob's, behind the other NAT
    finally:
        node.stop()
    assert net.status(0)["sponsor"]["today_tx"] == 3
