"""What a browser does with a member's attachments, served by a real node: a picture is shown as
a picture, and bytes that are not the type their record names (stored before uploads were
checked by their bytes) are downloaded as opaque bytes, never rendered, so a script inside them
never runs."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from governance.anvil import Anvil
from node.harness.process import NodeProcess, wait_until
from tests.integration.node.api.conftest import start_member_node

PNG = bytes.fromhex(  # a 1x1 transparent PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f6e0000000049454e44ae426082"
)
PAGE = b"<!doctype html><title>ran</title><script>document.title = 'script ran'</script>"


@pytest.fixture(scope="module")
def node(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    running = start_member_node(anvil, Path(tmp_path_factory.mktemp("browser-blobs")))
    yield running
    running.stop()


def _as_member(chromium: webdriver.Chrome, node: NodeProcess) -> str:
    """Sends the member's token with every request of the page (the API's bearer token), and
    returns the API's base URL."""
    chromium.execute_cdp_cmd("Network.enable", {})
    headers = {"Authorization": f"Bearer {node.api.token.decode()}"}
    chromium.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": headers})
    return f"http://127.0.0.1:{node.config.api_port}"


def test_a_picture_is_shown_as_a_picture(chromium: webdriver.Chrome, node: NodeProcess) -> None:
    base = _as_member(chromium, node)
    sha256 = node.api.upload(PNG, "image/png")["sha256"]
    chromium.get(f"{base}/v1/blobs/{sha256}")
    assert chromium.execute_script("return document.contentType") == "image/png"
    assert chromium.execute_script("return document.images.length") == 1
    assert chromium.execute_script("return document.images[0].naturalWidth") == 1


def test_a_page_stored_as_a_picture_is_downloaded_and_never_run(
    chromium: webdriver.Chrome, node: NodeProcess, downloads: Path
) -> None:
    sha256 = hashlib.sha256(PAGE).digest()
    with sqlite3.connect(node.config.home / "node.db") as db:  # as an older node stored it
        db.execute(
            "INSERT INTO blobs (sha256, mime, data, keep_until_ms) VALUES (?, ?, ?, ?)",
            (sha256, "image/png", PAGE, 2**62),
        )
    db.close()
    base = _as_member(chromium, node)
    chromium.get(f"{base}/v1/blobs/{sha256.hex()}")
    saved = downloads / f"{sha256.hex()[:16]}.bin"
    # Chromium may show the file before its bytes are in: wait for the whole of them
    wait_until(lambda: saved.exists() and saved.read_bytes() == PAGE, 30, "the bytes to be saved as a download")
    assert chromium.title not in ("ran", "script ran")
    assert not chromium.current_url.endswith(sha256.hex())  # the browser stayed where it was
