"""The governance routes on a real node and a real chain: the member proposes, votes and
executes with the passphrase of the keystore on their node, a wrong passphrase or a second vote
is refused with the CLI's sentence, and the moderation log names the proposal that decided."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from governance.accounts import create_keystore
from governance.anvil import Anvil
from governance.devchain import DevCommunity, deploy_dev_community
from governance.types import Support
from node.errors import ApiError
from node.harness.process import NodeProcess, app_key_of, prepare_home, wait_until

PASSPHRASE = "the member's passphrase"


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
