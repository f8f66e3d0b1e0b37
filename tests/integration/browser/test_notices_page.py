"""Notifications and the catch-up digest in the page, two members on two nodes: alice replies to
bob's post and mentions him by name; bob's page counts both in its header without a reload, lists
them ("replied to you", "mentioned you"), marks them read with one button, opens the thread a
notice is about, and its "Catch up" view lists the thread among the most discussed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from governance.anvil import Anvil
from node.harness.cluster import Network, start_network
from node.harness.process import NodeProcess, wait_until

from .conftest import accessibility_problems, kiez_open, settled

WAIT_S = 60.0
QUESTION = "Who has a ladder I could borrow?"
REPLY = "Mine is in the shed, take it"
MENTION = "@Bob the bench needs another coat of paint"


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("noticepages"), size=2)
    yield network
    network.stop()


@pytest.fixture(scope="module")
def bob(net: Network, chromium: webdriver.Chrome) -> webdriver.Chrome:
    """Bob's page (the second node's), logged in."""
    chromium.get(kiez_open(net.nodes[1]))
    wait_until(lambda: chromium.current_url.endswith("/app/"), WAIT_S, "the app after logging in")
    return chromium


def badge(driver: webdriver.Chrome) -> str:
    """The unread count in the header ("" while it is not shown)."""
    shown: str = driver.execute_script(
        "const b = document.getElementById('notice-badge'); return b.hidden ? '' : b.textContent"
    )
    return shown


def notices(driver: webdriver.Chrome) -> list[tuple[str, bool]]:
    """Each notice's sentence and whether it is marked unread, read in one script (the list is
    redrawn on every change the page hears of)."""
    rows: list[list[Any]] = driver.execute_script(
        "return [...document.querySelectorAll('#notices li.notification')]"
        ".map(li => [li.querySelector('.sentence').textContent, li.dataset.unread === 'true'])"
    )
    return [(str(sentence), bool(unread)) for sentence, unread in rows]


def digest(driver: webdriver.Chrome) -> dict[str, list[str]]:
    """The catch-up view's sections: heading → the texts of its lines (none for "(nothing)")."""
    parts: list[list[Any]] = driver.execute_script(
        "return [...document.querySelectorAll('#digest .digest-part')]"
        ".map(s => [s.querySelector('h3').textContent, [...s.querySelectorAll('li')].map(li => li.textContent)])"
    )
    return {str(title): [str(line) for line in lines] for title, lines in parts}


def named(node: NodeProcess, member: str, name: str) -> bool:
    return any(p["member"] == member and p["shown_as"] == name for p in node.api.get("/v1/profiles")["profiles"])


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    """The README's pictures, where KIEZ_SCREENSHOTS names a folder (as the other browser tests)."""
    shots = os.environ.get("KIEZ_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(shots) / name))


def click_notice(driver: webdriver.Chrome, words: str) -> None:
    """Clicks the notice whose sentence holds ``words``, finding it again if the list redrew."""

    def attempt() -> bool:
        for item in driver.find_elements(By.CSS_SELECTOR, "#notices button.sentence"):
            if words in item.text:
                item.click()
                return True
        return False

    settled(f"a click on the notice {words!r}", attempt)


def test_a_reply_and_a_mention_are_counted_listed_and_marked_read_on_bob_s_page(
    net: Network, bob: webdriver.Chrome
) -> None:
    alice_node, bob_node = net.nodes
    alice_address, bob_address = (f.address for f in net.dev.founders[:2])
    alice_node.api.post("/v1/profile", {"name": "Alice"})
    bob_node.api.post("/v1/profile", {"name": "Bob"})
    wait_until(lambda: named(alice_node, bob_address, "Bob"), WAIT_S, "bob's name at alice's node")
    wait_until(lambda: named(bob_node, alice_address, "Alice"), WAIT_S, "alice's name at bob's node")
    bob.find_element(By.ID, "show-notices").click()
    settled("no notifications yet", lambda: badge(bob) == "0" and "No notifications yet" in bob.page_source)
    assert bob.find_element(By.ID, "notices-read").is_enabled() is False  # nothing to mark read
    bob.execute_script("window.stayed = true")

    question = bob_node.api.post("/v1/posts", {"text": QUESTION})["id"]
    net.wait_post(question, nodes=[0])
    alice_node.api.post("/v1/posts", {"text": REPLY, "parent": question})
    mention = alice_node.api.post("/v1/posts", {"text": MENTION})
    assert [m["member"] for m in mention["mentions"]] == [bob_address]  # "@Bob", read by alice's node

    settled("two unread on bob's page", lambda: badge(bob) == "2")
    settled("both notices listed", lambda: len(notices(bob)) == 2)
    shown = notices(bob)
    assert shown == [(f"Alice mentioned you: “{MENTION}”", True), (f"Alice replied to you: “{REPLY}”", True)]
    assert bob.execute_script("return window.stayed") is True  # told by the stream, no reload
    serious, width = accessibility_problems(bob)
    assert serious == []
    assert width[0] <= width[1]

    settled("the button enabled", lambda: bob.find_element(By.ID, "notices-read").is_enabled())
    bob.find_element(By.ID, "notices-read").click()
    settled("none unread on bob's page", lambda: badge(bob) == "0")
    settled("the notices shown as read", lambda: notices(bob) and not any(unread for _, unread in notices(bob)))
    told = bob_node.api.get("/v1/notifications")
    assert told["unread"] == 0
    assert told["read_until_ms"] == told["items"][0]["at_ms"]  # up to the newest one shown
    assert "marked read" in bob.find_element(By.ID, "notices-note").text

    alice_node.api.post("/v1/reactions", {"target": question, "reaction": "👍"})  # new after the read
    settled("a new notice counted", lambda: badge(bob) == "1")
    settled("the reaction listed first", lambda: notices(bob)[0] == ("Alice reacted 👍 to your post", True))
    screenshot(bob, "web-app-notifications.png")


def test_a_notice_opens_the_thread_it_is_about(bob: webdriver.Chrome) -> None:
    click_notice(bob, "replied to you")

    def thread_shown() -> bool:
        shown: str = bob.execute_script(
            "if (document.getElementById('room-view').hidden) return '';"
            "const item = [...document.querySelectorAll('#feed > li')]"
            ".find(li => li.textContent.includes(arguments[0]));"
            "const thread = item && item.querySelector('.thread');"
            "return thread ? thread.textContent : '';",
            QUESTION,
        )
        return REPLY in shown

    settled("the thread of bob's question opened", thread_shown)
    assert bob.find_element(By.ID, "show-notices").get_attribute("aria-current") == "false"


def test_catch_up_lists_the_thread_among_the_most_discussed(bob: webdriver.Chrome) -> None:
    bob.find_element(By.ID, "show-digest").click()
    settled("the thread in the digest", lambda: any(QUESTION in t for t in digest(bob).get("Most discussed", [])))
    parts = digest(bob)
    assert any("1 reply from 1 person" in line for line in parts["Most discussed"])
    assert any(QUESTION in line for line in parts["Reached the most members"])  # alice replied and reacted
    assert parts["Coming up"] == []  # no event: the section says "(nothing)"
    assert "(nothing)" in bob.find_element(By.ID, "digest").text
    assert "3 posts by 2 members" in bob.find_element(By.ID, "digest-summary").text
    assert Select(bob.find_element(By.ID, "digest-since")).first_selected_option.text == "7 days"
    week = bob.find_element(By.ID, "digest-summary").text
    Select(bob.find_element(By.ID, "digest-since")).select_by_visible_text("1 day")
    settled("a day's digest", lambda: bob.find_element(By.ID, "digest-summary").text not in ("", week))
    settled("the thread in a day's digest", lambda: any(QUESTION in t for t in digest(bob).get("Most discussed", [])))
    screenshot(bob, "web-app-digest.png")
    serious, width = accessibility_problems(bob)
    assert serious == []
    assert width[0] <= width[1]
