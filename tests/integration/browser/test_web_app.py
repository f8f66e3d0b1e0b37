"""The member's web app in Chromium, served by a real node on a real chain: ``kiez open`` logs the
browser in, the page shows the node and its feed, a post written on the page reaches the node,
a post made elsewhere appears on the page without a reload, and requests that are not the page's
own are refused."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from governance.anvil import Anvil
from node.harness.process import NodeProcess, wait_until
from tests.integration.node.api.conftest import start_member_node

from .conftest import accessibility_problems, kiez_open

WAIT_S = 30.0


@pytest.fixture(scope="module")
def node(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    running = start_member_node(anvil, Path(tmp_path_factory.mktemp("web-app")))
    yield running
    running.stop()


def _feed_texts(chromium: webdriver.Chrome) -> list[str]:
    """Reads the feed in one script call: the page redraws it on every change it hears of."""
    texts = chromium.execute_script("return Array.from(document.querySelectorAll('#feed .text'), e => e.innerText)")
    return [str(text) for text in texts]


def test_kiez_open_logs_the_browser_in_with_a_strict_http_only_cookie(
    chromium: webdriver.Chrome, node: NodeProcess
) -> None:
    url = kiez_open(node)
    chromium.get(url)
    wait_until(lambda: chromium.current_url.endswith("/app/"), WAIT_S, "the app after logging in")
    cookie = chromium.get_cookie(f"kiez_session_{node.config.api_port}")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert "kiez_session" not in chromium.execute_script("return document.cookie")  # scripts cannot read it
    wait_until(
        lambda: chromium.find_element(By.ID, "community").text == "kiez · member", WAIT_S, "the node's name on the page"
    )
    assert "peers" in chromium.find_element(By.ID, "node-status").text
    chromium.get(url)  # the same link again: used up
    assert "used already or has expired" in chromium.page_source


def test_a_post_written_on_the_page_reaches_the_node(chromium: webdriver.Chrome, node: NodeProcess) -> None:
    chromium.get(f"http://127.0.0.1:{node.config.api_port}/app/")
    box = chromium.find_element(By.ID, "compose-text")
    box.send_keys("Hello from the page")
    chromium.find_element(By.CSS_SELECTOR, "#compose button[type=submit]").click()
    wait_until(lambda: "Hello from the page" in _feed_texts(chromium), WAIT_S, "the post on the page")
    texts = [item["text"] for item in node.api.get("/v1/feed")["items"]]
    assert "Hello from the page" in texts
    assert chromium.find_element(By.ID, "compose-error").text == ""


def test_a_post_made_elsewhere_appears_without_a_reload(chromium: webdriver.Chrome, node: NodeProcess) -> None:
    chromium.get(f"http://127.0.0.1:{node.config.api_port}/app/")
    marker = chromium.execute_script("window.stayed = true; return window.stayed")
    node.api.post("/v1/posts", {"text": "Posted from the CLI"})
    wait_until(lambda: "Posted from the CLI" in _feed_texts(chromium), WAIT_S, "the new post on the open page")
    assert marker is True
    assert chromium.execute_script("return window.stayed") is True  # the same document: no reload
    shots = os.environ.get("KIEZ_SCREENSHOTS")  # the README's pictures: KIEZ_SCREENSHOTS=docs/screenshots
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert chromium.save_screenshot(str(Path(shots) / "web-app-feed.png"))


def _request(node: NodeProcess, method: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", node.config.api_port, timeout=30)
    body = b'{"text": "not from the page"}' if method == "POST" else None
    connection.request(method, "/v1/posts" if method == "POST" else "/v1/status", body, headers)
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, data


def test_requests_that_are_not_the_pages_own_are_refused(chromium: webdriver.Chrome, node: NodeProcess) -> None:
    name = f"kiez_session_{node.config.api_port}"
    cookie = chromium.get_cookie(name)
    assert cookie is not None
    session = {"Cookie": f"{name}={cookie['value']}"}
    own = f"http://127.0.0.1:{node.config.api_port}"
    assert _request(node, "GET", session)[0] == 200
    assert _request(node, "GET", {})[0] == 401  # no session
    assert _request(node, "GET", {"Cookie": f"{name}=guessed"})[0] == 401
    assert _request(node, "GET", {**session, "Host": f"rebound.example:{node.config.api_port}"})[0] == 400
    status, said = _request(node, "POST", {**session, "X-Kiez-Page": "1", "Origin": "http://evil.example"})
    assert status == 403
    assert b"evil.example" in said
    assert _request(node, "POST", {**session, "Origin": own})[0] == 403  # a form from anywhere lacks the header
    texts = [item["text"] for item in node.api.get("/v1/feed")["items"]]
    assert "not from the page" not in texts


def test_the_page_has_no_serious_accessibility_violation_and_fits_a_phone(
    chromium: webdriver.Chrome, node: NodeProcess
) -> None:
    """axe-core on the logged-in page, in the fixture's 390×844 window: nothing serious or
    critical, and no horizontal scrolling."""
    chromium.get(f"http://127.0.0.1:{node.config.api_port}/app/")
    wait_until(lambda: _feed_texts(chromium), WAIT_S, "the feed on the page")
    serious, width = accessibility_problems(chromium)
    assert serious == []
    assert width[1] == 390
    assert width[0] <= width[1]
