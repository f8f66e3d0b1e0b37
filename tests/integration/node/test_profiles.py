"""Profiles across real node processes: a name set on one node shows on every node and in
every listing, a deceiving name is refused with its reason, equal names are told apart, the CLI
speaks names, and forget-me takes the profile from every node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from governance.anvil import Anvil
from node.cli import main
from node.errors import ApiError
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until
from tests.integration.node.cli.kiez import kiez

WAIT_S = 30.0


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("profiles"))
    yield network
    network.stop()


def shown_on(net: Network, index: int, member: str) -> str:
    found = [p for p in net.nodes[index].api.get("/v1/profiles")["profiles"] if p["member"] == member]
    return str(found[0]["shown_as"]) if found else ""


def test_a_name_set_on_one_node_shows_on_every_node_and_in_every_listing(net: Network) -> None:
    alice = net.dev.founders[0].address
    made = net.nodes[0].api.post("/v1/profile", {"name": "Alice", "bio": "Gardener", "links": ["https://a.example"]})
    assert made["kind"] == "profile"
    for index in range(3):
        wait_until(lambda i=index: shown_on(net, i, alice) == "Alice", WAIT_S, f"alice's name at node {index}")
    post = net.post(0, "Seedlings on the bench")
    net.wait_post(post)
    assert net.nodes[2].api.get(f"/v1/posts/{post}")["post"]["author_name"] == "Alice"
    feed = net.nodes[1].api.get("/v1/feed")["items"]
    assert next(i for i in feed if i["id"] == post)["author_name"] == "Alice"
    assert net.nodes[0].api.get("/v1/status")["member_name"] == "Alice"
    members = net.nodes[1].api.get("/v1/gov")["members"]
    assert next(m for m in members if m["address"] == alice)["address_name"] == "Alice"
    bob = net.dev.founders[1].address
    assert next(m for m in members if m["address"] == bob)["address_name"] == f"{bob[:6]}…{bob[-4:]}"
    home = str(net.nodes[2].config.home)
    assert "Alice" in kiez("feed", "--home", home).output
    assert "Alice  " + alice in kiez("profile", "show", alice, "--home", home).output
    gov = ["gov", "members", "--community", net.dev.address, "--rpc", net.dev.rpc_url]
    listed = CliRunner().invoke(main, gov, env={"KIEZ_HOME": home})
    assert listed.exit_code == 0, listed.output
    assert next(line for line in listed.output.splitlines() if alice in line).split()[1] == "Alice"
    unnamed = CliRunner().invoke(main, gov, env={"KIEZ_HOME": str(net.root / "no-node-here")})
    assert "Alice" not in unnamed.output
    assert alice in unnamed.output


def test_a_name_that_reorders_text_or_poses_as_an_address_is_refused_with_its_reason(net: Network) -> None:
    for name, words in [
        ("Bob\u202e9662", "invisible or text-reordering characters (U+202E)"),
        ("\u041ex70997970", "may not look like an address"),
    ]:
        with pytest.raises(ApiError) as refused:
            net.nodes[1].api.post("/v1/profile", {"name": name})
        assert refused.value.status == 422
        assert words in str(refused.value)
    home = str(net.nodes[1].config.home)
    assert "may not look like an address" in kiez("profile", "set", "--name", "0x7099", "--home", home, ok=False).output
    assert net.nodes[1].api.get("/v1/status").get("member_name", "").startswith("0x")  # nothing was set


def test_two_members_with_the_same_name_are_told_apart(net: Network) -> None:
    alice, carol = net.dev.founders[0].address, net.dev.founders[2].address
    net.nodes[2].api.post("/v1/profile", {"name": "alice"})
    for index in range(3):
        wait_until(lambda i=index: shown_on(net, i, carol) == f"alice ({carol[:6]}…{carol[-4:]})", WAIT_S, "carol")
    assert shown_on(net, 1, alice) == f"Alice ({alice[:6]}…{alice[-4:]})"


def test_search_finds_a_post_by_its_words_and_author_name_until_it_is_deleted(net: Network) -> None:
    post = net.post(0, "Who has a Leiter for the cherry tree?")
    net.wait_post(post)
    api, home = net.nodes[1].api, str(net.nodes[1].config.home)
    (hit,) = api.get("/v1/search?q=leiter")["results"]
    assert (hit["id"], hit["author_name"]) == (post, "Alice (" + hit["author"][:6] + "…" + hit["author"][-4:] + ")")
    assert "⟦Leiter⟧" in hit["snippet"]
    assert api.get(f"/v1/search?q=leiter&author={net.dev.founders[1].address}")["results"] == []
    printed = kiez(
        "search", "leit", "--author", "Alice (" + hit["author"][:6] + "…" + hit["author"][-4:] + ")", "--home", home
    ).output
    assert "«Leiter»" in printed
    assert (
        "no member is named 'nobody'" in kiez("search", "leiter", "--author", "nobody", "--home", home, ok=False).output
    )
    assert "--since takes a span" in kiez("search", "leiter", "--since", "last week", "--home", home, ok=False).output
    net.nodes[0].api.post("/v1/deletes", {"target": post})
    wait_until(lambda: api.get("/v1/search?q=leiter")["results"] == [], WAIT_S, "the post gone from bob's index")
    assert "no post holds 'leiter'" in kiez("search", "leiter", "--home", home).output


def test_forget_me_takes_the_profile_from_every_node(net: Network) -> None:
    carol = net.dev.founders[2].address
    net.nodes[2].api.post("/v1/erase", {})
    for index in range(3):
        wait_until(lambda i=index: shown_on(net, i, carol) == "", WAIT_S, f"carol's profile gone at node {index}")
    alice = net.dev.founders[0].address
    assert shown_on(net, 1, alice) == "Alice"  # her name is hers alone again
