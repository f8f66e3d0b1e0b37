"""Joining by invite, with no ether: real Anvil, real node processes, the real CLI.

Alice's node sponsors (a funded sponsor account, a budget of 3 transactions a day). She runs
`kiez invite`; a newcomer whose account never holds ether runs `kiez join`; Bob and Carol vote;
`kiez join` run again completes the admission and the key's authorisation through Alice's node;
the newcomer's node then posts and every node accepts it. Tampered requests and requests over the
budget are refused with a sentence. An expert given the same invite runs `kiez join --guest`: a
home with no account; Alice invites its key into a room, and what it posts there reaches every
member's node labelled as a guest's. The tests share one network and run in order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from governance.accounts import create_keystore, load_keystore
from governance.anvil import Anvil
from governance.invitations import SignedInvitation, SignedJoinRequest, sign_join_request
from governance.types import Support
from node.cli.join import deliver
from node.config import NodeConfig, read_secret
from node.core.invite import decode_invite
from node.core.signing import Signer
from node.errors import NodeError
from node.harness.cluster import Network, start_network
from node.harness.onboarding import fund
from node.harness.process import NodeProcess, app_key_of, free_port, prepare_home, until_accepted, wait_until
from node.sponsor.service import SPONSOR_KEY, sponsor_account

PASSWORD = "correct horse battery staple"


def kiez(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KIEZ_PASSWORD": PASSWORD}
    result = subprocess.run(
        [sys.executable, "-m", "node.cli", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kiez {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("join"))
    alice = network.nodes[0]
    # Alice's own account goes into her node's keystore (the harness signs with dev accounts)
    create_keystore(alice.config.keystore_path, PASSWORD, bytes(network.dev.founders[0].key))
    kiez("sponsor", "enable", "--per-day", "3", "--max-gas-gwei", "100", "--home", str(alice.config.home))
    sponsor = sponsor_account(NodeConfig.load(alice.config.home))
    assert sponsor is not None
    fund(anvil, sponsor.address, funder_index=5)
    alice.stop()
    alice.config = NodeConfig.load(alice.config.home)
    alice.start()
    yield network
    network.stop()


@pytest.fixture(scope="module")
def invite_text(net: Network) -> str:
    wait_until(lambda: net.nodes[0].api.get("/v1/peers/known")["records"], 60, "alice's node knows its record")
    result = kiez("invite", "--uses", "2", "--note", "from Alice", "--home", str(net.nodes[0].config.home))
    text = next(line for line in result.stdout.splitlines() if line.startswith("kiez:"))
    assert "█" in result.stdout  # the QR code
    return text


@pytest.fixture(scope="module")
def dana_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("newcomer") / "dana"


def test_an_invite_carries_the_community_and_alices_node(net: Network, invite_text: str) -> None:
    invite = decode_invite(invite_text)
    assert invite.contract_hex == net.dev.address.lower()
    assert invite.chain_id == net.dev.chain_id
    assert invite.note == "from Alice"
    assert invite.records  # her own record first
    assert SignedInvitation.from_bytes(invite.invitation).invitation.inviter == net.dev.founders[0].address


def test_a_tampered_join_request_is_refused_and_costs_nothing(net: Network, invite_text: str, tmp_path: Path) -> None:
    invite = decode_invite(invite_text)
    client = net.client(0)
    stranger: LocalAccount = Account.create()
    signed = sign_join_request(
        stranger, client.ballot_domain(), bytes(32), SignedInvitation.from_bytes(invite.invitation), 2**40, 0
    )
    forged = SignedJoinRequest(signed.applicant, b"\x01" * 32, signed.invitation, signed.deadline, signed.signature)
    config = _throwaway_home(net, tmp_path)
    with pytest.raises(NodeError, match="signature"):
        deliver(config, invite, "join", forged.to_bytes())
    assert client.join_request(stranger.address) is None
    assert net.status(0)["sponsor"]["today_tx"] == 0


def test_a_newcomer_with_no_ether_files_a_request_by_invite(net: Network, invite_text: str, dana_home: Path) -> None:
    home = dana_home
    args = ["--home", str(home), "--p2p-host", "127.0.0.1", "--p2p-port", str(free_port())]
    result = kiez(
        "join", invite_text, "--intro", "Dana, I fix bikes", "--no-wait", "--api-port", str(free_port()), *args
    )
    assert "your request is proposal #" in result.stdout, result.stdout
    assert "0 of 3 votes so far" in result.stdout or "1 of 3 votes so far" in result.stdout
    dana = load_keystore(home / "keystore.json", PASSWORD).address
    client = net.client(0)
    assert client.join_request(dana) is not None
    assert client.w3.eth.get_balance(dana) == 0
    # run again: nothing is filed twice, it reports the vote
    again = kiez("join", invite_text, "--intro", "Dana, I fix bikes", "--no-wait", *args)
    assert "asking a member's node to file" not in again.stdout
    assert "votes so far" in again.stdout


def test_after_the_vote_join_completes_and_the_newcomer_posts(net: Network, invite_text: str, dana_home: Path) -> None:
    home = dana_home
    dana = load_keystore(home / "keystore.json", PASSWORD).address
    proposal = next(p for p in net.client(0).proposals() if p.subject.endswith(bytes.fromhex(dana[2:])))
    for voter in (1, 2):
        net.client(voter).cast_vote(proposal.id, Support.FOR)
    result = kiez("join", invite_text, "--intro", "Dana, I fix bikes", "--home", str(home))
    assert "you are a member" in result.stdout, result.stdout
    assert "authorised" in result.stdout
    client = net.client(0)
    key = Signer(read_secret(home / "app_key", 32)).public_key
    assert client.is_member(dana)
    assert client.key_info(key).active
    assert client.w3.eth.get_balance(dana) == 0
    sponsored = net.status(0)["sponsor"]
    assert sponsored["today_tx"] == 3  # the request, the execution, the key
    node = NodeProcess(NodeConfig.load(home)).start()
    try:
        answer = until_accepted(lambda: node.api.post("/v1/posts", {"text": "hello from Dana"}), "dana's first post")
        post = answer["id"]
        net.wait_post(post)
    finally:
        node.stop()


def test_the_sponsor_refuses_over_its_budget(net: Network, invite_text: str, tmp_path: Path) -> None:
    invite = decode_invite(invite_text)
    client = net.client(0)
    stranger: LocalAccount = Account.create()
    signed = sign_join_request(
        stranger, client.ballot_domain(), bytes(32), SignedInvitation.from_bytes(invite.invitation), 2**40, 0
    )
    with pytest.raises(NodeError, match="budget for the day"):
        deliver(_throwaway_home(net, tmp_path), invite, "join", signed.to_bytes())
    assert client.join_request(stranger.address) is None


def _throwaway_home(net: Network, tmp: Path) -> NodeConfig:
    """A home with only a libp2p key, enough to dial the sponsor."""
    return prepare_home(
        tmp / "probe", rpc_url=net.dev.rpc_url, community=net.dev.address, chain_id=net.dev.chain_id, name="probe"
    )


def test_sponsor_key_is_private(net: Network) -> None:
    assert (net.nodes[0].config.home / SPONSOR_KEY).stat().st_mode & 0o077 == 0


def test_kiez_status_says_what_the_sponsor_paid(net: Network) -> None:
    shown = kiez("status", "--home", str(net.nodes[0].config.home)).stdout
    assert "sponsor   paid 3 of 3 transactions today, 3 in all" in shown
    assert "refused 2" in shown  # the tampered request and the one over budget


def test_a_guest_joins_by_invite_and_writes_labelled_in_its_room(
    net: Network, invite_text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("guest") / "expert"
    ports = ["--p2p-host", "127.0.0.1", "--p2p-port", str(free_port()), "--api-port", str(free_port())]
    made = kiez("join", invite_text, "--guest", "--home", str(home), *ports).stdout
    config = NodeConfig.load(home)
    key = app_key_of(config).hex()
    assert f"ask a member to invite it:  kiez guest invite ROOM 0x{key} --until 3d" in made, made
    assert f"then: kiez node run --home {home}" in made
    assert net.dev.founders[0].address in made  # who gave the invite
    assert not config.keystore_path.exists()
    assert config.community == net.dev.address
    assert config.bootstrap
    assert all(addr.startswith("/ip4/127.0.0.1/") for addr in config.bootstrap)
    # again: it says so and changes nothing; and a member's join refuses the guest's home
    keys_before = {name: (home / name).read_bytes() for name in ("app_key", "p2p_key", "config.toml")}
    again = kiez("join", invite_text, "--guest", "--home", str(home)).stdout
    assert "already holds a guest's node of this community; nothing changed" in again
    assert f"0x{key}" in again
    assert {name: (home / name).read_bytes() for name in keys_before} == keys_before
    refused = kiez("join", invite_text, "--intro", "me", "--home", str(home), check=False)
    assert refused.returncode != 0
    assert "holds a guest's node" in refused.stderr

    alice = net.nodes[0]
    room = alice.api.post("/v1/rooms", {"name": "repairs"})["id"]
    guest = NodeProcess(config).start()
    try:
        for node in [*net.nodes, guest]:
            wait_until(lambda n=node: any(r["id"] == room for r in n.api.get("/v1/rooms")["rooms"]), 60, "the room")
        for node in net.nodes[1:]:
            node.api.post(f"/v1/rooms/{room}/join", {})
        kiez("guest", "invite", "repairs", f"0x{key}", "--until", "3d", "--home", str(alice.config.home))
        wait_until(lambda: guest.api.get("/v1/guests")["passes"], 60, "the pass on the guest's node")
        said = {"text": "Truing a wheel: spoke tension first", "room": room}
        post = until_accepted(lambda: guest.api.post("/v1/posts", said), "the guest's post")["id"]
        net.wait_post(post)
        for node in net.nodes:
            item = node.api.get(f"/v1/posts/{post}")["post"]
            assert (item["guest"], item["author"]) == (True, f"guest:{key}")
            assert item["author_name"].startswith(f"guest {key[:8]}…")
    finally:
        guest.stop()
