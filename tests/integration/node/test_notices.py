"""Notifications and the digest across real node processes: a reply tells the author, a mention
tells the member mentioned, a reaction tells the one reacted to, each on their own node and
nobody else; a proposal tells the members who may vote on it; the digest and the CLI say what
the scenario did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from governance.anvil import Anvil
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until
from tests.integration.node.cli.kiez import kiez

WAIT_S = 30.0


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("notices"))
    names = ["Alice", "Bob", "Carol"]
    for index, name in enumerate(names):
        network.nodes[index].api.post("/v1/profile", {"name": name})
    for index in range(3):
        wait_until(lambda i=index: _named(network, i) == set(names), WAIT_S, f"every name at node {index}")
    yield network
    network.stop()


def _named(net: Network, index: int) -> set[str]:
    return {str(p["name"]) for p in net.nodes[index].api.get("/v1/profiles")["profiles"]}


def notices(net: Network, index: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = net.nodes[index].api.get("/v1/notifications")["items"]
    return items


def about(net: Network, index: int, message: str) -> list[tuple[str, str]]:
    """(kind, actor) of node ``index``'s notices that point at ``message``."""
    return sorted((n["kind"], n["actor"]) for n in notices(net, index) if n["message"] == message)


def test_a_reply_a_mention_and_a_reaction_tell_the_right_member_only(net: Network) -> None:
    alice, bob, carol = (f.address for f in net.dev.founders[:3])
    question = net.post(0, "Seed swap on Saturday, who brings tomatoes?")
    net.wait_post(question)
    reply = net.nodes[1].api.post("/v1/posts", {"text": "Me! @Carol has beans too", "parent": question})
    assert [m["member"] for m in reply["mentions"]] == [carol]
    net.wait_post(reply["id"])
    net.nodes[2].api.post("/v1/reactions", {"target": question, "reaction": "🍅"})
    wait_until(lambda: len(about(net, 0, question)) == 1, WAIT_S, "alice to be told of carol's reaction")
    assert about(net, 0, question) == [("reaction", carol)]
    assert about(net, 0, reply["id"]) == [("reply", bob)]
    assert about(net, 2, reply["id"]) == [("mention", bob)]
    assert about(net, 1, reply["id"]) == []
    assert about(net, 1, question) == []
    assert about(net, 2, question) == []
    told = {n["sentence"] for n in notices(net, 2)}
    assert "Bob mentioned you: “Me! @Carol has beans too”" in told
    actors = {n["actor"] for n in notices(net, 0)}
    assert actors >= {bob, carol}
    assert alice not in actors


def test_a_proposal_tells_the_members_who_may_vote_and_not_its_proposer(net: Network) -> None:
    post = net.post(0, "Compost bins for sale, cheap")
    net.wait_post(post)
    created, result = net.client(2).propose_hide_post(bytes.fromhex(post), "looks like an advert")
    net.wait_block(result.block_number)
    number = created.number
    for index in (0, 1):
        wait_until(
            lambda i=index: any(n["kind"] == "proposal" and n["proposal"] == number for n in notices(net, i)),
            WAIT_S,
            f"node {index} to be told of proposal {number}",
        )
    told = next(n for n in notices(net, 0) if n["kind"] == "proposal" and n["proposal"] == number)
    assert told["sentence"] == f"Carol proposed something you may vote on (proposal {number}): “looks like an advert”"
    assert not any(n["kind"] == "proposal" and n["proposal"] == number for n in notices(net, 2))


def test_the_cli_lists_and_marks_read_and_the_digest_says_what_happened(net: Network) -> None:
    home = str(net.nodes[2].config.home)
    listed = kiez("notifications", "--home", home).output
    assert "Bob mentioned you" in listed
    kiez("notifications", "read", "--home", home)
    assert "Bob mentioned you" not in kiez("notifications", "--unread", "--home", home).output
    assert "Bob mentioned you" in kiez("notifications", "--home", home).output  # read, not gone
    shown = kiez("digest", "--since", "1d", "--home", str(net.nodes[0].config.home)).output
    discussed = shown.split("most discussed")[1].split("reached the most members")[0]
    assert "Alice: “Seed swap on Saturday, who brings tomatoes?”  (1 reply from 1 member)" in discussed
    proposals = shown.split("proposals closing")[1].split("polls")[0]
    assert "looks like an advert" in proposals
    answer = net.nodes[1].api.get("/v1/digest?since_ms=0")
    assert answer["posts"] >= 3
    assert answer["writers"] >= 2
