"""The feed's order and the opinion map in the page, three members on three nodes: alice's page
switched to the bridging order shows the post bob and carol both like with why it is there (and
how many supporters it has), leaves out the post nobody reacted to, and says what a post needs to
be ranked; the personal order says why for every post; the opinion map says plainly that three
members are too few for groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from governance.anvil import Anvil
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until

from .conftest import accessibility_problems, kiez_open, settled
from .test_notices_page import screenshot

WAIT_S = 60.0
LIKED = "Seed swap at the garden on Saturday"
ALONE = "Anyone else hear the owls last night?"
REASONS = ("appreciated by members who usually disagree", "mostly by one group")


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("rankingpage"))
    yield network
    network.stop()


@pytest.fixture(scope="module")
def alice(net: Network, chromium: webdriver.Chrome) -> webdriver.Chrome:
    """Alice's page (the first node's), logged in."""
    chromium.get(kiez_open(net.nodes[0]))
    wait_until(lambda: chromium.current_url.endswith("/app/"), WAIT_S, "the app after logging in")
    return chromium


def shown(driver: webdriver.Chrome) -> list[tuple[str, str]]:
    """Each post of the feed as (text, its why line or ""), read in one script."""
    rows: list[list[Any]] = driver.execute_script(
        "return [...document.querySelectorAll('#feed > li.post')].map(li => [li.querySelector('.text').textContent,"
        " (li.querySelector('[data-role=why]') || {textContent: ''}).textContent])"
    )
    return [(str(text), str(why)) for text, why in rows]


def test_the_bridging_order_shows_why_and_the_map_says_too_few(net: Network, alice: webdriver.Chrome) -> None:
    a, b, c = net.nodes
    liked = a.api.post("/v1/posts", {"text": LIKED})["id"]
    alone = c.api.post("/v1/posts", {"text": ALONE})["id"]
    net.wait_post(liked)
    net.wait_post(alone)
    b.api.post("/v1/reactions", {"target": liked, "reaction": "👍"})
    c.api.post("/v1/reactions", {"target": liked, "reaction": "🌱"})
    wait_until(lambda: len(a.api.get(f"/v1/posts/{liked}")["post"]["reactions"]) == 2, WAIT_S, "both reactions")
    settled("both posts, newest first", lambda: [t for t, _ in shown(alice)] == [ALONE, LIKED])
    assert all(why == "" for _, why in shown(alice))  # the newest order has no reasons to give

    Select(alice.find_element(By.ID, "feed-sort")).select_by_value("bridging")
    settled("nothing ranked with three supporters", lambda: shown(alice) == [])
    note = alice.find_element(By.ID, "feed-sort-note").text
    assert note == (
        "Nothing is ranked yet: a post needs 3 distinct supporters to be ranked."
        " The posts of every open room are ranked together."
    )
    supporters = alice.find_element(By.ID, "feed-supporters")
    supporters.clear()
    supporters.send_keys("2", Keys.TAB)
    settled("alice's post ranked", lambda: [t for t, _ in shown(alice)] == [LIKED])
    why = shown(alice)[0][1]
    assert why.startswith("why: ")
    assert any(reason in why for reason in REASONS), why
    assert why.endswith("· 2 supporters")
    alice.execute_script("document.getElementById('feed-order').scrollIntoView()")
    screenshot(alice, "web-app-bridging.png")
    assert "Ranked by how much members who usually disagree both like a post" in alice.page_source
    assert alice.find_element(By.ID, "feed").get_attribute("aria-label") == (
        "Posts appreciated across the community's divides first"
    )

    Select(alice.find_element(By.ID, "feed-sort")).select_by_value("personal")
    assert alice.find_element(By.ID, "feed-supporters-box").is_displayed() is False
    settled("carol's post, with why", lambda: [t for t, _ in shown(alice)] == [ALONE])  # alice's own is left out
    personal = shown(alice)[0][1]
    assert "why: " in personal
    assert personal.startswith("◇ ") == ("outside your usual topics and people" in personal)  # marked as such

    alice.find_element(By.ID, "show-opinions").click()
    summary = alice.find_element(By.ID, "opinions-summary")
    settled("the opinion map", lambda: summary.text.startswith("No groups of opinion to show"))
    assert "a map needs at least two groups of three" in summary.text
    assert alice.find_elements(By.CSS_SELECTOR, "#opinions .opinion-group") == []
    serious, width = accessibility_problems(alice)
    assert serious == []
    assert width[0] <= width[1]
