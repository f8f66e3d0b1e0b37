"""Rooms, events and polls from the page, three members on three nodes: alice makes a private
room and invites bob from her page, bob's page reads what she posts there while carol's (her
node relays the room) says it cannot; a poll asked from alice's page, answered and changed from
bob's, shows the same tally on every page; an RSVP from carol's page is counted on alice's."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from governance.anvil import Anvil
from node.harness.cluster import Network, start_network

from .conftest import accessibility_problems, logged_in_pages, settled

WAIT_S = 60.0
ROOM = "Garden plans"
SECRET = "The seeds arrive on Friday"


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(anvil, tmp_path_factory.mktemp("roompages"), size=3)
    yield network
    network.stop()


@pytest.fixture(scope="module")
def pages(net: Network, downloads: Path) -> Iterator[list[webdriver.Chrome]]:
    with logged_in_pages(net.nodes, downloads) as drivers:
        yield drivers


def click_room(driver: webdriver.Chrome, name: str) -> bool:
    for entry in driver.find_elements(By.CSS_SELECTOR, "#rooms button"):
        if entry.text.startswith(name):
            entry.click()
            return True
    return False


def room_label(driver: webdriver.Chrome, name: str) -> str:
    return next((b.text for b in driver.find_elements(By.CSS_SELECTOR, "#rooms button") if b.text.startswith(name)), "")


def test_a_private_room_made_and_shared_from_the_page_is_read_only_by_the_invited(
    net: Network, pages: list[webdriver.Chrome]
) -> None:
    alice, bob, carol = pages
    alice.find_element(By.CSS_SELECTOR, ".new-room summary").click()
    form = alice.find_element(By.CSS_SELECTOR, ".new-room form")
    form.find_element(By.NAME, "name").send_keys(ROOM)
    Select(form.find_element(By.NAME, "visibility")).select_by_value("private")
    form.find_element(By.TAG_NAME, "button").click()
    settled("alice in her new room", lambda: alice.find_element(By.ID, "room-title").text == ROOM)
    bob_address = net.dev.founders[1].address
    settled("the invite form", lambda: alice.find_elements(By.CSS_SELECTOR, ".inline-form input"))

    def invite() -> bool:
        field = alice.find_element(By.CSS_SELECTOR, ".inline-form input")
        field.clear()
        field.send_keys(bob_address)
        alice.find_element(By.CSS_SELECTOR, ".inline-form button").click()
        return "invited" in alice.find_element(By.ID, "room-note").text or bool(field.get_attribute("value"))

    settled("bob invited", invite)
    settled("the invitation confirmed", lambda: "invited" in alice.find_element(By.ID, "room-note").text)
    # bob needs the key the invitation sealed to him before anything posted after it is his to read
    room = next(r for r in net.nodes[0].api.get("/v1/rooms")["rooms"] if r["name"] == ROOM)
    settled("the room key on bob's node", lambda: _bob_holds_key(net, room["id"], room["key"]))
    alice.find_element(By.ID, "compose-text").send_keys(SECRET)
    alice.find_element(By.CSS_SELECTOR, "#compose button[type=submit]").click()
    settled("the post in alice's room", lambda: SECRET in alice.find_element(By.ID, "feed").text)

    settled("the room on bob's page", lambda: click_room(bob, ROOM))
    if bob.find_elements(By.CSS_SELECTOR, "[data-role=join]"):
        bob.find_element(By.CSS_SELECTOR, "[data-role=join]").click()
    settled("alice's post on bob's page", lambda: SECRET in bob.find_element(By.ID, "feed").text)

    settled("the room on carol's page", lambda: "(cannot read)" in room_label(carol, ROOM))
    click_room(carol, ROOM)
    settled("the notice", lambda: "cannot read them" in carol.find_element(By.ID, "room-tools").text)
    assert SECRET not in carol.find_element(By.ID, "feed").text
    assert all(SECRET not in i["text"] for i in net.nodes[2].api.get(f"/v1/feed?room={room['id']}")["items"])


def _bob_holds_key(net: Network, room_id: str, key: str | None) -> bool:
    rooms = net.nodes[1].api.get("/v1/rooms")["rooms"]
    return any(r["id"] == room_id and r["readable"] and r["key"] == key for r in rooms)


def test_a_poll_answered_and_changed_from_a_page_has_one_tally_everywhere(pages: list[webdriver.Chrome]) -> None:
    alice, bob, carol = pages
    for driver in pages:
        settled("the general room", functools.partial(click_room, driver, "General"))
    alice.find_elements(By.CSS_SELECTOR, "#room-extras summary")[1].click()
    form = alice.find_elements(By.CSS_SELECTOR, "#room-extras form")[1]
    form.find_element(By.NAME, "question").send_keys("Which day for the workday?")
    form.find_element(By.TAG_NAME, "textarea").send_keys("Saturday\nSunday")
    form.find_element(By.TAG_NAME, "button").click()

    def answer(driver: webdriver.Chrome, option: str) -> bool:
        for choice in driver.find_elements(By.CSS_SELECTOR, ".poll [data-role=answer]"):
            if choice.text == option:
                choice.click()
                return True
        return False

    def tallies(driver: webdriver.Chrome) -> list[str]:
        return [t.text for t in driver.find_elements(By.CSS_SELECTOR, ".poll .tally")]

    def has_tallies(driver: webdriver.Chrome, wanted: list[str]) -> bool:
        return tallies(driver) == wanted

    settled("bob answers Saturday", lambda: answer(bob, "Saturday"))
    settled("the answer on carol's page", lambda: tallies(carol) == ["1", "0"])
    settled("bob changes to Sunday", lambda: answer(bob, "Sunday"))
    for driver in pages:
        settled("one tally on every page", functools.partial(has_tallies, driver, ["0", "1"]))
    settled("the poll marked not binding", lambda: "not binding" in alice.find_element(By.CSS_SELECTOR, ".poll").text)
    shots = os.environ.get("KIEZ_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        alice.execute_script("document.getElementById('room-extras').scrollIntoView()")
        assert alice.save_screenshot(str(Path(shots) / "web-app-poll.png"))
    serious, width = accessibility_problems(alice)
    assert serious == []
    assert width[0] <= width[1]


def test_an_event_announced_through_the_api_takes_an_rsvp_from_a_page(
    net: Network, pages: list[webdriver.Chrome]
) -> None:
    alice, _, carol = pages

    now = int(time.time() * 1000)
    net.nodes[0].api.post(
        "/v1/events", {"title": "Repair café", "starts_ms": now + 3_600_000, "ends_ms": now + 7_200_000}
    )
    settled("the event on carol's page", lambda: carol.find_elements(By.CSS_SELECTOR, "[data-role=rsvp-yes]"))

    def say_yes() -> bool:
        carol.find_element(By.CSS_SELECTOR, "[data-role=rsvp-yes]").click()
        return True

    settled("carol says yes", say_yes)
    settled("carol's yes on alice's page", lambda: "yes 1" in alice.find_element(By.CSS_SELECTOR, ".event").text)
