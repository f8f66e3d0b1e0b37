"""Three members, three nodes, three Chromiums: alice proposes from her page to hide carol's
post, alice and bob vote from theirs while carol's page shows the tally change without a
reload, bob executes, the post leaves every page, and carol's moderation log says which
proposal decided it. Transactions are signed by each node's keystore with the passphrase typed
into the page. Then bob, with a browser wallet, proposes a charter from the page's form, declines
one vote in his wallet and signs the next, executes, and every page shows the charter's text
checked against its hash on the chain."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select

from governance.accounts import create_keystore
from governance.anvil import Anvil
from node.errors import NodeError
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until

from .conftest import accessibility_problems, logged_in_pages, settled
from .wallet import BridgedWallet

WAIT_S = 60.0
PASSPHRASE = "a member's passphrase"
TEXT = "Buy cheap watches at my shop"
CHARTER = "We garden together.\nEvery decision is a vote; every member has one."


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("govpages"), size=3)
    for node, founder in zip(network.nodes, network.dev.founders, strict=True):
        create_keystore(node.config.keystore_path, PASSPHRASE, bytes(founder.key))
    yield network
    network.stop()


@pytest.fixture(scope="module")
def pages(net: Network, downloads: Path) -> Iterator[list[webdriver.Chrome]]:
    with logged_in_pages(net.nodes, downloads) as drivers:
        yield drivers


def retrying(driver: webdriver.Chrome, what: str, action: Callable[[], bool]) -> None:
    """Runs ``action`` until it gets through a page that redraws."""
    settled(what, action)


def proposal_on(driver: webdriver.Chrome, number: int) -> WebElement | None:
    found = driver.find_elements(By.CSS_SELECTOR, f"#gov-proposals li[data-number='{number}']")
    return found[0] if found else None


def open_governance(driver: webdriver.Chrome) -> None:
    driver.find_element(By.ID, "show-gov").click()
    wait_until(lambda: driver.find_element(By.ID, "gov-rules").text, WAIT_S, "the governance view")


def type_passphrase(driver: webdriver.Chrome) -> None:
    """Types the passphrase into an emptied field: an attempt that a redraw interrupted (a stale
    element) must not leave its keystrokes behind for the next one to append to."""
    field = driver.find_element(By.ID, "gov-passphrase")
    field.clear()
    field.send_keys(PASSPHRASE)


def vote_for(driver: webdriver.Chrome, number: int) -> None:
    def vote() -> bool:
        item = proposal_on(driver, number)
        if item is None or not item.find_elements(By.CSS_SELECTOR, ".vote-form"):
            return False
        item.find_element(By.CSS_SELECTOR, "input[value='for']").click()
        type_passphrase(driver)
        item.find_element(By.CSS_SELECTOR, ".vote-form button").click()
        return True

    retrying(driver, f"a vote on proposal {number}", vote)

    def recorded() -> bool:
        item = proposal_on(driver, number)
        return item is not None and "you voted" in item.text

    try:
        retrying(driver, "the vote recorded", recorded)
    except NodeError as error:
        said = driver.find_element(By.ID, "gov-error").text
        raise NodeError(f"{error}; the page says: {said!r}") from error


def test_a_hide_proposed_and_voted_from_two_pages_is_seen_live_on_a_third_and_done_everywhere(
    net: Network, pages: list[webdriver.Chrome]
) -> None:
    alice, bob, carol = pages
    post = net.nodes[2].api.post("/v1/posts", {"text": TEXT})["id"]

    def propose() -> bool:
        for item in alice.find_elements(By.CSS_SELECTOR, "#feed > li"):
            if TEXT in item.text:
                item.find_element(By.CSS_SELECTOR, "[data-role=propose-hide]").click()
                return True
        return False

    retrying(alice, "the hide button on alice's page", propose)
    alice.find_element(By.ID, "hide-reason").send_keys("advertising")
    alice.find_element(By.ID, "hide-passphrase").send_keys(PASSPHRASE)
    alice.find_element(By.CSS_SELECTOR, "#hide-form button[type=submit]").click()
    wait_until(lambda: "proposal 1 made" in alice.find_element(By.ID, "room-note").text, WAIT_S, "the proposal")

    for driver in pages:
        open_governance(driver)
    wait_until(lambda: proposal_on(carol, 1) is not None, WAIT_S, "proposal 1 on carol's page")
    carol.execute_script("window.stayed = true")

    def tally_on_carol() -> str:
        try:
            item = proposal_on(carol, 1)
            return "" if item is None else str(item.find_element(By.CSS_SELECTOR, ".tally").get_attribute("data-for"))
        except StaleElementReferenceException:
            return ""

    assert tally_on_carol() == "0"
    vote_for(alice, 1)
    wait_until(lambda: tally_on_carol() == "1", WAIT_S, "alice's vote on carol's page")
    vote_for(bob, 1)
    wait_until(lambda: tally_on_carol() == "2", WAIT_S, "bob's vote on carol's page")
    assert carol.execute_script("return window.stayed") is True  # live, without a reload

    def execute() -> bool:
        item = proposal_on(bob, 1)
        buttons = [] if item is None else item.find_elements(By.CSS_SELECTOR, "[data-role=execute]")
        if not buttons:
            return False
        type_passphrase(bob)
        buttons[0].click()
        return True

    retrying(bob, "the execute button on bob's page", execute)
    wait_until(lambda: "by proposal 1" in carol.find_element(By.ID, "gov-log").text, WAIT_S, "the moderation log")
    assert "advertising" in carol.find_element(By.ID, "gov-log").text
    for node in net.nodes:
        wait_until(lambda n=node: all(i["id"] != post for i in n.api.get("/v1/feed")["items"]), WAIT_S, "hidden")
    shots = os.environ.get("KIEZ_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert carol.save_screenshot(str(Path(shots) / "web-app-governance.png"))
    serious, width = accessibility_problems(carol)
    assert serious == []
    assert width[0] <= width[1]
    for driver in pages:  # and the feed of each page no longer shows it
        driver.find_element(By.CSS_SELECTOR, "#rooms button").click()
        wait_until(lambda d=driver: TEXT not in d.find_element(By.ID, "feed").text, WAIT_S, "the post gone")


def test_a_charter_proposed_and_executed_from_a_browser_wallet_is_checked_against_its_hash_on_every_page(
    net: Network, pages: list[webdriver.Chrome]
) -> None:
    alice, bob, carol = pages
    bob_account = net.dev.founders[1].address
    wallet = BridgedWallet.install(bob, net.dev.client().w3, bob_account)
    for driver in pages:
        open_governance(driver)
    settled("the wallet offered", lambda: bob.find_element(By.ID, "signer-wallet").is_enabled())
    bob.find_element(By.ID, "signer-wallet").click()
    assert not bob.find_element(By.ID, "gov-passphrase").is_displayed()  # the wallet signs, no passphrase
    bob.find_element(By.CSS_SELECTOR, "#gov-propose summary").click()
    Select(bob.find_element(By.ID, "propose-kind")).select_by_value("set_guest_policy")
    assert bob.find_element(By.ID, "propose-max_guest_pass_s").is_displayed()  # its own fields
    assert not bob.find_element(By.ID, "propose-charter").is_displayed()
    Select(bob.find_element(By.ID, "propose-kind")).select_by_value("set_charter")
    bob.find_element(By.ID, "propose-charter").send_keys(CHARTER)
    bob.find_element(By.ID, "propose-description").send_keys("our first charter")
    bob.find_element(By.CSS_SELECTOR, "#propose-form button[type=submit]").click()
    settled(
        "bob's proposal made", lambda: wallet.serve() or "proposal 2 made" in bob.find_element(By.ID, "gov-note").text
    )
    assert [(tx["from"], tx["to"]) for tx in wallet.sent] == [(bob_account, net.dev.address)]
    serious, width = accessibility_problems(bob)
    assert serious == []
    assert width[0] <= width[1]

    vote_for(alice, 2)  # alice's node signs with her keystore
    wallet.decline = True

    def vote_from_wallet() -> bool:
        item = proposal_on(bob, 2)
        if item is None or not item.find_elements(By.CSS_SELECTOR, ".vote-form"):
            return False
        item.find_element(By.CSS_SELECTOR, "input[value='for']").click()
        item.find_element(By.CSS_SELECTOR, ".vote-form button").click()
        return True

    retrying(bob, "bob's vote in his wallet", vote_from_wallet)
    problem = bob.find_element(By.ID, "gov-error")
    settled("the refusal", lambda: wallet.serve() or "you declined the transaction in your wallet" in problem.text)
    retrying(bob, "bob's vote again", vote_from_wallet)
    settled("bob's vote", lambda: wallet.serve() or "you voted" in str(proposal_on(bob, 2).text))  # type: ignore[union-attr]

    def execute() -> bool:
        item = proposal_on(bob, 2)
        buttons = [] if item is None else item.find_elements(By.CSS_SELECTOR, "[data-role=execute]")
        if buttons:
            buttons[0].click()
        return bool(buttons)

    retrying(bob, "the execute button", execute)

    def checked(driver: webdriver.Chrome) -> bool:
        return driver.find_element(By.ID, "charter-check").get_attribute("data-matches") == "true"

    for driver in pages:
        settled("the charter checked", lambda d=driver: wallet.serve() or checked(d))  # type: ignore[misc]
        assert driver.find_element(By.ID, "charter-text").text == CHARTER
        assert "✓" in driver.find_element(By.ID, "charter-check").text
    assert net.dev.client().charter_hash() == keccak(CHARTER.encode())
    shots = os.environ.get("KIEZ_SCREENSHOTS")
    if shots:
        carol.execute_script("document.getElementById('charter-check').scrollIntoView()")
        assert carol.save_screenshot(str(Path(shots) / "web-app-charter.png"))
