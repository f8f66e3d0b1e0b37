"""The governance routes on a real node and a real chain: the member proposes, votes and
executes with the passphrase of the keystore on their node, a wrong passphrase or a second vote
is refused with the CLI's sentence, and the moderation log names the proposal that decided. A
browser wallet's path (the node prepares, the wallet sends) ends in the same proposals, and a
charter's text travels as a post that every node checks against the hash on the chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from governance.accounts import create_keystore, dev_account
from governance.anvil import Anvil
from governance.devchain import DevCommunity, deploy_dev_community
from governance.types import Support
from node.errors import ApiError
from node.harness.process import NodeProcess, app_key_of, prepare_home, wait_until
from tests.integration.node.cli.kiez import kiez

PASSPHRASE = "the member's passphrase"
CHARTER = "1. Be kind.\n2. Stay on topic: the neighbourhood's garden.\n3. Decisions are made by vote."


@dataclass
class Member:
    node: NodeProcess
    dev: DevCommunity


@pytest.fixture(scope="module")
def member(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Member]:
    dev = deploy_dev_community(anvil, founders=2)
    home = tmp_path_factory.mktemp("gov") / "alice"
    config = prepare_home(home, rpc_url=anvil.rpc_url, community=dev.address, chain_id=dev.chain_id, name="alice")
    create_keystore(config.keystore_path, PASSPHRASE, bytes(dev.founders[0].key))
    dev.client(dev.founders[0]).add_key(app_key_of(config))
    node = NodeProcess(config).start()
    try:
        wait_until(lambda: node.api.get("/v1/status")["app_key_active"], 60, "alice's app key to be active")
        yield Member(node, dev)
    finally:
        node.stop()


def refusal(call: object) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value.status, str(caught.value)


def test_the_overview_names_the_members_and_this_node_s_member(member: Member) -> None:
    overview = member.node.api.get("/v1/gov")
    alice, bob = (a.address for a in member.dev.founders)
    assert overview["me"] == alice
    assert {m["address"] for m in overview["members"]} == {alice, bob}
    assert overview["rules"]["words"].startswith("quorum ")
    assert overview["join_requests"] == []


def test_a_hide_proposed_voted_and_executed_from_the_api_is_in_the_moderation_log(member: Member) -> None:
    api = member.node.api
    post = api.post("/v1/posts", {"text": "a post the community will hide"})["id"]
    hide = {"kind": "hide_post", "target": post, "description": "off topic"}
    status, message = refusal(lambda: api.post("/v1/gov/proposals", {**hide, "passphrase": "wrong"}))
    assert status == 403
    assert "wrong password for keystore" in message
    number = api.post("/v1/gov/proposals", {**hide, "passphrase": PASSPHRASE})["number"]
    api.post(f"/v1/gov/proposals/{number}/vote", {"support": "for", "reason": "agreed", "passphrase": PASSPHRASE})
    status, message = refusal(
        lambda: api.post(f"/v1/gov/proposals/{number}/vote", {"support": "for", "passphrase": PASSPHRASE})
    )
    assert status == 409
    assert "already voted" in message
    shown = next(p for p in api.get("/v1/gov/proposals")["proposals"] if p["number"] == number)
    assert (shown["kind"], shown["for"], shown["voted"], shown["state"]) == ("hide-post", 1, True, "active")
    bob = member.dev.client(member.dev.founders[1])
    bob.cast_vote(bob.proposal_id(number), Support.FOR)
    api.post(f"/v1/gov/proposals/{number}/execute", {"passphrase": PASSPHRASE})
    log = api.get("/v1/gov/moderation")["log"]
    assert log[0]["action"] == "hide"
    assert log[0]["post"] == post
    assert log[0]["decided_by"] == f"proposal {number}"
    assert log[0]["at"] > 0
    wait_until(lambda: all(i["id"] != post for i in api.get("/v1/feed")["items"]), 60, "the post to leave the feed")


def test_bad_input_is_refused_in_words(member: Member) -> None:
    api = member.node.api
    cases = [
        ("/v1/gov/proposals/0/vote", {"support": "for", "passphrase": PASSPHRASE}, 400, "a proposal number"),
        ("/v1/gov/proposals/999/vote", {"support": "for", "passphrase": PASSPHRASE}, 404, "999"),
        ("/v1/gov/proposals/1/vote", {"support": "maybe", "passphrase": PASSPHRASE}, 400, "support must be"),
        ("/v1/gov/proposals", {"kind": "add_member", "target": "bob", "passphrase": PASSPHRASE}, 400, "target"),
        ("/v1/gov/proposals", {"kind": "launch", "target": "x", "passphrase": PASSPHRASE}, 400, "kind must be"),
        ("/v1/gov/proposals/1/execute", {}, 400, "passphrase is required"),
    ]
    for path, body, status, words in cases:
        got, message = refusal(lambda p=path, b=body: api.post(p, b))
        assert got == status, (path, message)
        assert words in message, (path, message)


def wallet_send(member: Member, prepared: dict[str, Any]) -> str:
    """What a browser wallet does with a prepared transaction: ``eth_sendTransaction`` (Anvil
    signs for its unlocked dev accounts, as a wallet would with its key)."""
    w3 = member.dev.client().w3
    tx = dict(prepared["transaction"])
    tx["gas"] = int(tx["gas"], 16)
    tx["value"] = int(tx["value"], 16)
    return "0x" + bytes(w3.eth.send_transaction(cast(Any, tx))).hex()


def mined(member: Member, tx: str) -> dict[str, Any]:
    wait_until(lambda: member.node.api.get(f"/v1/gov/transactions/{tx}")["state"] == "mined", 60, f"{tx} mined")
    return cast(dict[str, Any], member.node.api.get(f"/v1/gov/transactions/{tx}"))


def test_a_charter_proposed_with_its_text_is_shown_beside_its_hash_once_executed(member: Member) -> None:
    api = member.node.api
    bob = member.dev.founders[1].address
    assert api.get("/v1/gov/charter")["note"] == "the community has no charter yet"
    made = api.post(
        "/v1/gov/proposals",
        {"kind": "set_charter", "text": CHARTER, "description": "our first charter", "passphrase": PASSPHRASE},
    )
    number = made["number"]
    shown = next(p for p in api.get("/v1/gov/proposals")["proposals"] if p["number"] == number)
    cited = shown["description"].split("charter text: post ")[1]
    assert api.get(f"/v1/posts/{cited}")["post"]["text"] == CHARTER  # the text travels as a post
    api.post(f"/v1/gov/proposals/{number}/vote", {"support": "for", "passphrase": PASSPHRASE})
    # bob votes from a browser wallet: the node prepares the call, the wallet signs and sends it
    prepared = api.post(f"/v1/gov/wallet/proposals/{number}/vote", {"support": "for", "account": bob})
    assert (prepared["transaction"]["from"], prepared["chain_id"]) == (bob, member.dev.chain_id)
    assert prepared["function"] == "castVote"
    assert mined(member, wallet_send(member, prepared))["block"] > 0
    execute = api.post(f"/v1/gov/wallet/proposals/{number}/execute", {"account": bob})
    mined(member, wallet_send(member, execute))
    charter = api.get("/v1/gov/charter")
    assert charter["hash"] == "0x" + keccak(CHARTER.encode()).hex()
    assert (charter["text"], charter["matches"], charter["post"]) == (CHARTER, True, cited)
    assert member.dev.client().charter_hash() == keccak(CHARTER.encode())


def test_a_wallet_proposal_names_the_proposal_it_made_and_a_failed_one_says_why(member: Member) -> None:
    api = member.node.api
    bob = member.dev.founders[1].address
    rules = {"kind": "change_rules", "quorum_pct": 50, "threshold_pct": 60, "voting_period_s": 120}
    prepared = api.post("/v1/gov/wallet/proposals", {**rules, "account": bob})
    made = mined(member, wallet_send(member, prepared))
    number = made["number"]
    shown = next(p for p in api.get("/v1/gov/proposals")["proposals"] if p["number"] == number)
    assert (shown["kind"], shown["proposer"]) == ("change-rules", bob)
    guests = {"kind": "set_guest_policy", "guest_inviters": 1, "max_guest_pass_s": 86400, "account": bob}
    policy = mined(member, wallet_send(member, api.post("/v1/gov/wallet/proposals", guests)))
    shown_policy = next(p for p in api.get("/v1/gov/proposals")["proposals"] if p["number"] == policy["number"])
    assert shown_policy["kind"] == "set-guest-policy"
    # the same vote twice: the second passes no simulation of its own and fails when mined (bob's
    # first vote against, of two members, already decided it)
    vote = api.post(f"/v1/gov/wallet/proposals/{number}/vote", {"support": "against", "account": bob})
    mined(member, wallet_send(member, vote))
    second = wallet_send(member, vote)
    wait_until(lambda: refusal(lambda: api.get(f"/v1/gov/transactions/{second}"))[0] == 409, 60, "the failure")
    assert f"voting on proposal {number} is closed" in refusal(lambda: api.get(f"/v1/gov/transactions/{second}"))[1]


def test_wallet_and_proposal_input_is_refused_in_words(member: Member) -> None:
    api = member.node.api
    stranger = dev_account(7).address
    cases = [
        ({"kind": "add_member", "target": stranger, "account": stranger}, 409, "not a member"),
        ({"kind": "change_rules", "quorum_pct": 50, "account": stranger}, 400, "threshold_pct, voting_period_s"),
        (
            {"kind": "set_media_policy", "max_attachments": 9, "max_attachment_kib": 1, "account": stranger},
            400,
            "max_attachments",
        ),
        ({"kind": "set_charter", "text": " ", "account": stranger}, 400, "set_charter needs text"),
        ({"kind": "set_guest_policy", "guest_inviters": 2, "max_guest_pass_s": 60, "account": stranger}, 400, "guest"),
        ({"kind": "hide_post", "target": "0x12", "account": stranger}, 400, "target"),
        ({"kind": "add_member", "target": stranger, "account": "nobody"}, 400, "account"),
    ]
    for body, status, words in cases:
        got, message = refusal(lambda b=body: api.post("/v1/gov/wallet/proposals", b))
        assert got == status, (body, message)
        assert words in message, (body, message)
    assert api.get("/v1/gov/transactions/0x" + "00" * 32)["state"] == "pending"
    w3 = member.dev.client().w3
    elsewhere = w3.eth.send_transaction(cast(Any, {"from": stranger, "to": dev_account(8).address, "value": 1}))
    got, message = refusal(lambda: api.get("/v1/gov/transactions/0x" + bytes(elsewhere).hex()))
    assert (got, "was not sent to this community" in message) == (400, True)


def test_kiez_charter_proposes_a_file_and_shows_the_text_once_it_is_the_chain_s(member: Member, tmp_path: Path) -> None:
    home = str(member.node.config.home)
    text = "The garden is everyone's.\nWe water it in turns.\n"  # the final newline counts
    (tmp_path / "charter.md").write_text(text)
    (tmp_path / "latin1.md").write_bytes("Gärten".encode("latin-1"))
    assert (
        "is not UTF-8 text" in kiez("charter", "propose", str(tmp_path / "latin1.md"), "--home", home, ok=False).output
    )
    made = kiez("charter", "propose", str(tmp_path / "charter.md"), "--home", home, password=PASSPHRASE).output
    number = int(made.split()[1])
    api = member.node.api
    api.post(f"/v1/gov/proposals/{number}/vote", {"support": "for", "passphrase": PASSPHRASE})
    bob = member.dev.client(member.dev.founders[1])
    bob.cast_vote(bob.proposal_id(number), Support.FOR)
    api.post(f"/v1/gov/proposals/{number}/execute", {"passphrase": PASSPHRASE})
    shown = kiez("charter", "show", "--home", home).output
    assert shown.startswith("✓ this text's keccak-256 hash is the one the community voted for")
    assert text.strip() in shown
    assert api.get("/v1/gov/charter")["hash"] == "0x" + keccak(text.encode()).hex()


def test_a_removal_is_in_the_moderation_log_with_the_proposal_that_decided_it(member: Member) -> None:
    api, dev = member.node.api, member.dev
    bob, carol = dev.founders[1], dev_account(2)

    def decided(body: dict[str, str], second: LocalAccount) -> int:
        number = int(api.post("/v1/gov/proposals", {**body, "passphrase": PASSPHRASE})["number"])
        api.post(f"/v1/gov/proposals/{number}/vote", {"support": "for", "passphrase": PASSPHRASE})
        other = dev.client(second)
        other.cast_vote(other.proposal_id(number), Support.FOR)
        api.post(f"/v1/gov/proposals/{number}/execute", {"passphrase": PASSPHRASE})
        return number

    dev.client(carol).request_to_join(keccak(text="carol, from the garden"))
    decided({"kind": "add_member", "target": carol.address}, bob)  # a removal needs three members
    number = decided({"kind": "remove_member", "target": bob.address, "description": "moved away"}, carol)
    entry = api.get("/v1/gov/moderation")["log"][0]
    assert (entry["action"], entry["member"], entry["post"]) == ("remove", bob.address, None)
    assert (entry["decided_by"], entry["reason"]) == (f"proposal {number}", "moved away")
    assert bob.address not in {m["address"] for m in api.get("/v1/gov")["members"]}
