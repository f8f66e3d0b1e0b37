"""The ranked feeds over real node processes: every node with the same messages gives the same
bridging ranking with the same explanations, a personal feed says why each post is there, the
opinion map says nothing of a community too small to map, and bad queries are refused with
their reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from governance.anvil import Anvil
from node.cli import main
from node.errors import ApiError
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until
from tests.integration.node.cli.kiez import at_node as kiez

WAIT_S = 30.0


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("ranking"))
    yield network
    network.stop()


def bridging(net: Network, index: int) -> list[tuple[str, float, tuple[str, ...]]]:
    items: list[dict[str, Any]] = net.nodes[index].api.get("/v1/ranking?sort=bridging&min_supporters=2")["items"]
    return [(i["id"], i["score"], tuple(i["why"])) for i in items]


def bob_page(net: Network, query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = net.nodes[1].api.get(f"/v1/ranking?sort=personal&{query}")["items"]
    return items


def test_every_node_ranks_the_same_posts_the_same_way_and_says_why(net: Network) -> None:
    a, b, c = net.nodes
    liked = a.api.post("/v1/posts", {"text": "Seed swap at the garden on Saturday"})["id"]
    once = b.api.post("/v1/posts", {"text": "Bike repair cafe moves to the library"})["id"]
    c.api.post("/v1/posts", {"text": "Anyone else hear the owls last night?"})
    for node in (a, b, c):
        wait_until(lambda n=node: len(n.api.get("/v1/feed")["items"]) >= 3, WAIT_S, "the three posts")
    b.api.post("/v1/reactions", {"target": liked, "reaction": "👍"})
    c.api.post("/v1/reactions", {"target": liked, "reaction": "🌱"})
    c.api.post("/v1/reactions", {"target": once, "reaction": "👍"})

    def settled() -> bool:
        return all(len(n.api.get(f"/v1/posts/{liked}")["post"]["reactions"]) == 2 for n in (a, b, c))

    wait_until(settled, WAIT_S, "the reactions on every node")
    wait_until(lambda: bridging(net, 2) == bridging(net, 0) == bridging(net, 1), WAIT_S, "the same ranking")
    ranked = bridging(net, 0)
    assert [r[0] for r in ranked] == [liked]  # two supporters; the other post has one
    assert ranked[0][2]
    assert ranked[0][2][0] in {"appreciated by members who usually disagree", "mostly by one group"}


def test_a_personal_feed_says_why_each_post_is_there(net: Network) -> None:
    a, b, c = net.nodes
    garden = a.api.post("/v1/posts", {"text": "The garden needs hands for the compost"})["id"]
    a.api.post("/v1/posts", {"text": "Compost and seeds: the garden's spring plan"})
    c.api.post("/v1/posts", {"text": "Chess club tonight at eight"})
    wait_until(lambda: len(b.api.get("/v1/feed")["items"]) >= 6, WAIT_S, "the new posts on bob's node")
    b.api.post("/v1/reactions", {"target": garden, "reaction": "👍"})
    wait_until(lambda: bool(b.api.get(f"/v1/posts/{garden}")["post"]["mine"]), WAIT_S, "bob's reaction")
    page = b.api.get("/v1/ranking?sort=personal&limit=2&diversity=50")
    assert page["sort"] == "personal"
    assert len(page["items"]) == 2
    assert page["more"] is True
    for item in page["items"]:
        assert item["why"], item
        assert isinstance(item["outside"], bool)
    later = b.api.get("/v1/ranking?sort=personal&limit=2&diversity=50&page=1")["items"]
    assert {i["id"] for i in later}.isdisjoint({i["id"] for i in page["items"]})


def test_the_opinion_map_of_three_members_shows_no_groups(net: Network) -> None:
    found = net.nodes[0].api.get("/v1/opinions")
    assert found["groups"] == []
    assert found["consensus"] == []


def test_the_ranked_feed_and_the_opinion_map_from_the_command_line(net: Network, tmp_path: Path) -> None:
    ranked = bridging(net, 0)
    assert ranked, "the first test leaves one ranked post"
    shown = kiez(net, 0, "feed", "--sort", "bridging", "--min-supporters", "2")
    assert "why: " in shown
    assert ranked[0][2][0] in shown
    personal = kiez(net, 1, "feed", "--sort", "personal", "--limit", "3")
    assert personal.count("why: ") == 3
    # the floor's share reaches the node: bob never engaged with carol's posts, so a page of three
    # holds two of them with --diversity 50 (rounded up) and none without a floor (alice's first)
    mixed = json.loads(kiez(net, 1, "feed", "--sort", "personal", "--limit", "3", "--diversity", "50", "--json"))
    assert [i["id"] for i in mixed["items"]] == [i["id"] for i in bob_page(net, "limit=3&diversity=50")]
    assert sum(i["outside"] for i in mixed["items"]) == 2
    assert sum(i["outside"] for i in bob_page(net, "limit=3&diversity=0")) == 0
    assert "nothing to rank on page 5" in kiez(net, 0, "feed", "--sort", "bridging", "--page", "5")
    assert "does not go with --sort" in CliRunner().invoke(main, ["feed", "--sort", "personal", "--follow"]).output
    words = kiez(net, 0, "opinions")
    assert "no groups of opinion to show" in words
    plot = tmp_path / "map.png"
    assert f"plot written to {plot}" in kiez(net, 0, "opinions", "--plot", str(plot))
    assert plot.read_bytes().startswith(b"\x89PNG")
    data = json.loads(kiez(net, 0, "opinions", "--json"))
    assert data["groups"] == []
    assert "silhouette" in data


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("/v1/ranking?sort=loudest", "sort"),
        ("/v1/ranking?diversity=150", "diversity"),
        ("/v1/ranking?min_supporters=0", "min_supporters"),
        ("/v1/ranking?colour=red", "colour"),
        ("/v1/opinions?poll=" + "ab" * 32, "no visible poll"),
    ],
)
def test_a_bad_query_is_refused_with_its_reason(net: Network, query: str, said: str) -> None:
    with pytest.raises(ApiError) as caught:
        net.nodes[0].api.get(query)
    assert caught.value.status in {400, 404, 422}
    assert said in str(caught.value), str(caught.value)
