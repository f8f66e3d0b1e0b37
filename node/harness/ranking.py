"""The devnet's members take sides on two proposals for the street and agree on the repair café:
every node then ranks the same bridging feed, each post with why, and maps the opinions on the
poll (which, with four members, honestly says there are too few to show groups)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from node.cli.ranking import render_map
from node.harness.process import wait_until

if TYPE_CHECKING:
    from node.harness.process import NodeProcess
    from node.harness.scenario import Devnet

WAIT = 60.0
#: A devnet has a handful of members: a post is ranked from two supporters (the default is three).
SUPPORTERS = 2
CARS_OUT = "Close the canal street to cars on Sundays."
PARKING = "More parking spaces by the market, please."


def rank_and_map(devnet: Devnet, poll: str) -> None:
    """Two posts that split the members and one they all like; the same bridging ranking on every
    node, printed with its reasons; then the opinion map of ``poll``."""
    newcomer = devnet.newcomer
    devnet.say.step(
        "Members take sides on the street; every node ranks the same bridging feed and says why, "
        "and maps the opinions on the poll"
    )
    cars_out = _post(devnet, "bob", CARS_OUT)
    parking = _post(devnet, "alice", PARKING)
    for name, target, reaction, what in (
        (newcomer, devnet.posts["alice"], "👍", "alice's repair café"),
        ("alice", cars_out, "👍", "bob's car-free Sundays"),
        ("carol", cars_out, "👎", "bob's car-free Sundays"),
        (newcomer, cars_out, "👎", "bob's car-free Sundays"),
        ("carol", parking, "👍", "alice's parking"),
        (newcomer, parking, "👍", "alice's parking"),
        ("bob", parking, "👎", "alice's parking"),
    ):
        _everywhere(devnet, target)
        devnet.nodes[name].api.post("/v1/reactions", {"target": target, "reaction": reaction})
        devnet.say.did(name, f"reacted {reaction} to {what}")
    posts = [devnet.posts["alice"], cars_out, parking]
    # seven reactions, and carol's 👍 on the repair café from the conversation
    wait_until(lambda: _settled(devnet, posts, 8), WAIT, "every reaction on every node")
    wait_until(lambda: len({str(_ranking(n)) for n in devnet.nodes.values()}) == 1, WAIT, "the same ranking")
    ranked = _ranking(next(iter(devnet.nodes.values())))
    devnet.say.did(
        "", f"bridging feed, the same on all {len(devnet.nodes)} nodes (a post needs {SUPPORTERS} supporters here):"
    )
    for number, item in enumerate(ranked, 1):
        devnet.say.did(
            "",
            f"  {number}. {item['author_name']}: “{item['text']}”  score {item['score']:.3f}, "
            f"{item['supporters']} supporters: {'; '.join(item['why'])}",
        )
    found = devnet.nodes["alice"].api.get(f"/v1/opinions?poll={poll}")
    devnet.say.did("", "opinion map of bob's poll and the posts of its room:")
    for line in render_map(found).splitlines():
        devnet.say.did("", f"  {line}")


def _post(devnet: Devnet, name: str, text: str) -> str:
    made = str(devnet.nodes[name].api.post("/v1/posts", {"text": text})["id"])
    devnet.say.did(name, f"posted {made[:12]}…: {text}")
    return made


def _everywhere(devnet: Devnet, post: str) -> None:
    wait_until(lambda: all(n.has_post(post) for n in devnet.nodes.values()), WAIT, f"post {post[:12]} everywhere")


def _settled(devnet: Devnet, posts: list[str], reactions: int) -> bool:
    """Whether every node holds ``reactions`` reactions on ``posts``."""
    return all(
        sum(sum(n.api.get(f"/v1/posts/{p}")["post"]["reactions"].values()) for p in posts) == reactions
        for n in devnet.nodes.values()
    )


def _ranking(node: NodeProcess) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = node.api.get(f"/v1/ranking?sort=bridging&min_supporters={SUPPORTERS}")["items"]
    return [{k: i[k] for k in ("id", "author_name", "text", "score", "supporters", "why")} for i in items]
