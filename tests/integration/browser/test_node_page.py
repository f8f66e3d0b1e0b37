"""The member's own node in the page: its status, the export of the member's data as a file, and
her profile, saved from the page and shown by name on another node; and
forget-me, whose dialog says what will be erased and which, with the passphrase, erases the
member's posts on every node, revokes the node's key and leaves the community."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from governance.accounts import create_keystore
from governance.anvil import Anvil
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until

from .conftest import accessibility_problems, kiez_open, open_chromium

WAIT_S = 60.0
PASSPHRASE = "alice's passphrase"
TEXT = "Something I will take back"


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("nodepage"), size=2)
    create_keystore(network.nodes[0].config.keystore_path, PASSPHRASE, bytes(network.dev.founders[0].key))
    yield network
    network.stop()


@pytest.fixture(scope="module")
def alice(net: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[webdriver.Chrome, Path]]:
    downloads = tmp_path_factory.mktemp("exports")
    driver = open_chromium(downloads)
    try:
        driver.get(kiez_open(net.nodes[0]))
        wait_until(lambda: driver.current_url.endswith("/app/"), WAIT_S, "the app after logging in")
        yield driver, downloads
    finally:
        driver.quit()


def _whole_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


def facts(driver: webdriver.Chrome) -> dict[str, str]:
    """The view's facts, read in one script (the view may redraw between two reads)."""
    pairs: list[list[str]] = driver.execute_script(
        "return [...document.querySelectorAll('#node-facts dt')]"
        ".map(dt => [dt.textContent, dt.nextElementSibling.textContent]);"
    )
    return dict((term, value) for term, value in pairs)


def test_the_node_view_shows_peers_and_chain_and_exports_a_file(
    net: Network, alice: tuple[webdriver.Chrome, Path]
) -> None:
    driver, downloads = alice
    post = net.nodes[0].api.post("/v1/posts", {"text": TEXT})["id"]
    driver.find_element(By.ID, "show-node").click()
    wait_until(lambda: facts(driver).get("connected peers") == "1", WAIT_S, "the node view")
    shown = facts(driver)
    assert shown["following"] == "yes"
    assert int(shown["accepted"]) >= 1
    driver.find_element(By.ID, "export-link").click()
    exported = downloads / "kiez-export.json"
    wait_until(lambda: _whole_json(exported), WAIT_S, "the export downloaded")  # not a half-written file
    data = json.loads(exported.read_text())
    assert data["member"] == net.dev.founders[0].address
    assert post in {m["id"] for m in data["messages"]}
    shots = os.environ.get("KIEZ_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(shots) / "web-app-node.png"))
    serious, width = accessibility_problems(driver)
    assert serious == []
    assert width[0] <= width[1]


def test_a_profile_saved_from_the_page_names_alice_on_bob_s_node(
    net: Network, alice: tuple[webdriver.Chrome, Path]
) -> None:
    driver, _ = alice
    wait_until(lambda: "no profile yet" in driver.find_element(By.ID, "profile-note").text, WAIT_S, "the form")
    name = driver.find_element(By.ID, "profile-name")
    name.send_keys("Alice\u202e")  # a right-to-left override: refused with its reason, nothing set
    driver.find_element(By.CSS_SELECTOR, "#profile-form button[type=submit]").click()
    wait_until(lambda: "U+202E" in driver.find_element(By.ID, "profile-error").text, WAIT_S, "the refusal")
    name.clear()
    name.send_keys("Alice")
    driver.find_element(By.ID, "profile-bio").send_keys("Runs the tool library")
    driver.find_element(By.ID, "profile-links").send_keys("https://tools.example")
    driver.find_element(By.CSS_SELECTOR, "#profile-form button[type=submit]").click()
    wait_until(lambda: "saved" in driver.find_element(By.ID, "profile-note").text, WAIT_S, "the profile saved")
    member = net.dev.founders[0].address

    def named_at_bob() -> bool:
        return any(
            p["member"] == member and p["shown_as"] == "Alice" for p in net.nodes[1].api.get("/v1/profiles")["profiles"]
        )

    wait_until(named_at_bob, WAIT_S, "alice's name at bob's node")
    shown = net.nodes[1].api.get(f"/v1/profiles/{member}")
    assert (shown["bio"], shown["links"]) == ("Runs the tool library", ["https://tools.example"])
    driver.find_element(By.CSS_SELECTOR, "#rooms button").click()
    wait_until(lambda: "Alice ·" in driver.find_element(By.ID, "feed").text, WAIT_S, "her name in the feed")


def test_forget_me_says_what_it_erases_and_does_it(net: Network, alice: tuple[webdriver.Chrome, Path]) -> None:
    driver, _ = alice
    driver.find_element(By.ID, "show-node").click()
    bob = net.nodes[1].api
    wait_until(lambda: any(i["text"] == TEXT for i in bob.get("/v1/feed")["items"]), WAIT_S, "the post at bob's")
    driver.find_element(By.ID, "forget-open").click()
    dialog = driver.find_element(By.ID, "forget-dialog")
    assert "every node deletes everything you wrote" in dialog.text
    assert "revoke this node's key" in dialog.text
    driver.find_element(By.ID, "forget-confirm").click()
    driver.find_element(By.ID, "forget-passphrase").send_keys("not it")
    driver.find_element(By.CSS_SELECTOR, "#forget-form button[type=submit]").click()
    wait_until(lambda: "wrong password" in driver.find_element(By.ID, "forget-error").text, WAIT_S, "the refusal")
    assert any(i["text"] == TEXT for i in bob.get("/v1/feed")["items"])  # nothing was done
    driver.find_element(By.ID, "forget-passphrase").send_keys(PASSPHRASE)
    driver.find_element(By.CSS_SELECTOR, "#forget-form button[type=submit]").click()
    wait_until(lambda: "left the community" in driver.find_element(By.ID, "forget-result").text, WAIT_S, "forget-me")
    wait_until(lambda: all(i["text"] != TEXT for i in bob.get("/v1/feed")["items"]), WAIT_S, "the post erased at bob's")
    assert not net.client(1).is_member(net.dev.founders[0].address)
