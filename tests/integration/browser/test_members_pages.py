"""Two members, each on their own node and their own page, in Chromium: alice posts a picture
from her page and bob's page shows it once his node has fetched it; bob replies and reacts from
his page and alice's page shows the counts change without a reload; only the author's page
offers to delete a post."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from governance.anvil import Anvil
from node.harness.cluster import Network, start_network
from node.harness.process import NodeProcess, wait_until

from .conftest import kiez_open, open_chromium, settled

WAIT_S = 60.0
PICTURE = bytes.fromhex(  # a 1x1 transparent PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f6e0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("pages"), size=2)
    yield network
    network.stop()


def log_in(driver: webdriver.Chrome, node: NodeProcess) -> None:
    driver.get(kiez_open(node))
    wait_until(lambda: driver.current_url.endswith("/app/"), WAIT_S, "the app after logging in")


@pytest.fixture(scope="module")
def pages(net: Network, downloads: Path) -> Iterator[tuple[webdriver.Chrome, webdriver.Chrome]]:
    alice, bob = open_chromium(downloads), open_chromium(downloads)
    try:
        log_in(alice, net.nodes[0])
        log_in(bob, net.nodes[1])
        yield alice, bob
    finally:
        alice.quit()
        bob.quit()


def post_on(driver: webdriver.Chrome, text: str) -> WebElement:
    """The feed item of the first post showing ``text`` (waits for it)."""

    def find() -> WebElement | None:
        try:
            for item in driver.find_elements(By.CSS_SELECTOR, "#feed > li"):
                if text in item.find_element(By.CSS_SELECTOR, ".text").text:
                    return item
        except StaleElementReferenceException:  # the page redrew its feed meanwhile
            pass
        return None

    found: list[WebElement] = []

    def look() -> bool:
        item = find()
        found[:] = [] if item is None else [item]
        return item is not None

    wait_until(look, WAIT_S, f"{text!r} on the page")
    return found[0]


def count_in_post(driver: webdriver.Chrome, text: str, css: str) -> int:
    """How many ``css`` the post showing ``text`` holds, read again if the page redrew it."""
    counted: list[int] = []

    def attempt() -> bool:
        try:
            counted[:] = [len(post_on(driver, text).find_elements(By.CSS_SELECTOR, css))]
            return True
        except StaleElementReferenceException:
            return False

    wait_until(attempt, WAIT_S, f"{css} counted in {text!r}")
    return counted[0]


def click_in_post(driver: webdriver.Chrome, text: str, css: str) -> None:
    """Clicks ``css`` inside the post showing ``text``, finding it again if the page redrew it."""

    def attempt() -> bool:
        try:
            post_on(driver, text).find_element(By.CSS_SELECTOR, css).click()
            return True
        except StaleElementReferenceException:
            return False

    wait_until(attempt, WAIT_S, f"a click on {css} in {text!r}")


def test_a_picture_posted_from_one_page_shows_on_the_other(
    net: Network, pages: tuple[webdriver.Chrome, webdriver.Chrome], tmp_path: Path
) -> None:
    alice, bob = pages
    picture = tmp_path / "bench.png"
    picture.write_bytes(PICTURE)
    alice.find_element(By.ID, "compose-text").send_keys("The new bench")
    alice.find_element(By.ID, "compose-files").send_keys(str(picture))
    alice.find_element(By.CSS_SELECTOR, "#compose button[type=submit]").click()
    post_on(alice, "The new bench")
    assert "At most 4 per post, each at most 2048 KiB" in alice.find_element(By.ID, "compose-caps").text

    def shown_on_bob() -> bool:
        try:
            images = post_on(bob, "The new bench").find_elements(By.CSS_SELECTOR, "img.picture")
            return bool(images) and bob.execute_script("return arguments[0].naturalWidth", images[0]) == 1
        except StaleElementReferenceException:
            return False

    wait_until(shown_on_bob, WAIT_S, "the picture on bob's page")
    sha = hashlib.sha256(PICTURE).hexdigest()
    assert net.nodes[1].api.download(sha) == ("image/png", PICTURE)


def test_a_reply_and_a_reaction_from_bobs_page_show_on_alices(
    pages: tuple[webdriver.Chrome, webdriver.Chrome],
) -> None:
    alice, bob = pages
    assert count_in_post(bob, "The new bench", "[data-role=delete]") == 0  # alice's
    click_in_post(bob, "The new bench", "[data-role=react]")
    click_in_post(bob, "The new bench", "[data-role=thread]")
    wait_until(lambda: count_in_post(bob, "The new bench", ".reply-form") > 0, WAIT_S, "thread")

    def reply() -> bool:
        try:
            form = post_on(bob, "The new bench").find_element(By.CSS_SELECTOR, ".reply-form")
            form.find_element(By.TAG_NAME, "textarea").send_keys("Lovely, I will sit on it")
            form.find_element(By.TAG_NAME, "button").click()
            return True
        except StaleElementReferenceException:
            return False

    wait_until(reply, WAIT_S, "bob's reply sent")
    alice.execute_script("window.stayed = true")
    # alice's page is told by her node's event stream (it asks by itself only while the stream is down)
    assert alice.execute_script("return document.body.dataset.stream") == "open"

    def counts_on_alice() -> bool:
        try:
            actions = post_on(alice, "The new bench").find_element(By.CSS_SELECTOR, ".actions").text
        except StaleElementReferenceException:
            return False
        return "👍 1" in actions and "replies 1" in actions

    wait_until(counts_on_alice, WAIT_S, "the reaction and reply counts on alice's page")
    assert alice.execute_script("return window.stayed") is True  # no reload
    assert count_in_post(alice, "The new bench", "[data-role=delete]") == 1  # hers
    shots = os.environ.get("KIEZ_SCREENSHOTS")  # the README's pictures
    if shots:
        wait_until(lambda: "Lovely" in bob.find_element(By.ID, "feed").text, WAIT_S, "the reply on bob's page")
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert bob.save_screenshot(str(Path(shots) / "web-app-thread.png"))


def test_bob_changes_his_reaction_and_alice_s_page_follows(pages: tuple[webdriver.Chrome, webdriver.Chrome]) -> None:
    alice, bob = pages

    def pressed(driver: webdriver.Chrome, reaction: str) -> str:
        button = post_on(driver, "The new bench").find_element(By.CSS_SELECTOR, f"[data-reaction='{reaction}']")
        return str(button.get_attribute("aria-pressed"))

    settled("bob's 👍 shown as his own", lambda: pressed(bob, "👍") == "true")
    assert pressed(alice, "👍") == "false"  # bob's, not alice's
    click_in_post(bob, "The new bench", "[data-reaction='❤️']")
    settled("bob's ❤️ pressed", lambda: pressed(bob, "❤️") == "true")
    click_in_post(bob, "The new bench", "[data-reaction='👍']")  # taken back

    def followed_on_alice() -> bool:
        actions = post_on(alice, "The new bench").find_element(By.CSS_SELECTOR, ".actions").text
        return "❤️ 1" in actions and "👍 1" not in actions

    settled("bob's change on alice's page", followed_on_alice)
    assert pressed(bob, "👍") == "false"
