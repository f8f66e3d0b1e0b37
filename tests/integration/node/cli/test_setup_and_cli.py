"""`kiez init`, `kiez keys register`, refusals to start, and the member CLI and API of a running node."""

from __future__ import annotations

import json
import re
import socket
import stat
import time
import urllib.request
from pathlib import Path

import pytest

from governance.devchain import DevCommunity
from node.api.client import ApiClient
from node.config import NodeConfig
from node.errors import ApiError
from node.harness.process import NodeProcess, wait_until
from tests.integration.node.cli.kiez import init, kiez


def test_init_creates_a_private_home(community: DevCommunity, tmp_path: Path) -> None:
    home = tmp_path / "alice"
    result = init(home, community, "--dev-account", "0")
    assert "your account 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 is a member" in result.output
    assert "next: kiez keys register" in result.output
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("config.toml", "app_key", "p2p_key", "api_token", "keystore.json"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    config = NodeConfig.load(home)
    assert (config.community, config.chain_id) == (community.address, 31337)
    again = kiez("init", "--home", str(home), "--community", community.address, "--rpc", community.rpc_url, ok=False)
    assert "already holds a node" in again.output


def test_keys_register_authorises_the_app_key_once(community: DevCommunity, tmp_path: Path) -> None:
    home = tmp_path / "bob"
    init(home, community, "--dev-account", "1")
    key = kiez("keys", "show", "--home", str(home)).output.strip()
    first = kiez("keys", "register", "--home", str(home))
    assert f"app key {key} authorised for 0x70997970C51812dc3A010C7d01b50e0d17dc79C8" in first.output
    assert community.client().key_info(bytes.fromhex(key[2:])).active
    second = kiez("keys", "register", "--home", str(home))
    assert "already registered" in second.output
    wrong = kiez("keys", "register", "--home", str(home), password="wrong", ok=False)
    assert "wrong password" in wrong.output


def test_a_non_member_cannot_register_a_key(community: DevCommunity, tmp_path: Path) -> None:
    home = tmp_path / "mallory"
    result = init(home, community, "--dev-account", "7")
    assert "NOT a member yet" in result.output
    refused = kiez("keys", "register", "--home", str(home), ok=False)
    assert "are not a member of community" in refused.output


def test_the_node_refuses_to_start_with_a_clear_message(community: DevCommunity, tmp_path: Path) -> None:
    missing = kiez("node", "run", "--home", str(tmp_path / "nowhere"), ok=False)
    assert "no node configured at" in missing.output
    home = tmp_path / "carol"
    init(home, community, "--dev-account", "2")
    (home / "app_key").chmod(0o644)
    exposed = kiez("node", "run", "--home", str(home), ok=False)
    assert "readable by others" in exposed.output
    assert "chmod 600" in exposed.output
    (home / "app_key").chmod(0o600)
    config = NodeConfig.load(home)
    config.with_changes(rpc_url="http://127.0.0.1:9").save()
    dead = kiez("node", "run", "--home", str(home), ok=False)
    assert "cannot reach the chain at http://127.0.0.1:9" in dead.output
    config.with_changes(chain_id=5).save()
    other_chain = kiez("node", "run", "--home", str(home), ok=False)
    assert "serves chain 31337, but the node is configured for chain 5" in other_chain.output
    (home / "config.toml").write_text('rpc_url = "ftp://x"\ncommunity = "0x12"\nchain_id = 1\nsurprise = 1\n')
    broken = kiez("node", "run", "--home", str(home), ok=False)
    assert "unknown setting(s) surprise" in broken.output


def test_member_commands_on_a_running_node(running: NodeProcess) -> None:
    home = str(running.config.home)
    wait_until(lambda: running.api.get("/v1/status")["app_key_active"], 30, "the app key to be active")
    posted = kiez("post", "Hallo Kiez", "--home", home, "--json")
    post_id = json.loads(posted.output)["id"]
    kiez("reply", post_id, "first!", "--home", home)
    kiez("react", post_id, "🎉", "--home", home)
    feed = kiez("feed", "--home", home).output
    assert "Hallo Kiez" in feed
    assert "↩ 1" in feed
    assert "🎉 1" in feed
    thread = kiez("thread", post_id, "--home", home).output
    assert "first!" in thread
    status = kiez("status", "--home", home).output
    assert "member    0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in status
    assert "chain     ok;" in status
    assert "3 accepted" in status or "published by you" in status
    assert kiez("peers", "--home", home).output.strip() == "no peers connected"
    kiez("delete", post_id, "--home", home)
    assert "Hallo Kiez" not in kiez("feed", "--home", home).output
    empty = kiez("post", "   ", "--home", home, ok=False)
    assert "text must be a non-empty string" in empty.output


def test_the_api_wants_its_token(running: NodeProcess) -> None:
    base = running.config.api_url
    with pytest.raises(ApiError, match="missing or wrong API token") as caught:
        ApiClient(base, b"not-the-token").get("/v1/status")
    assert caught.value.status == 401
    with pytest.raises(ApiError) as unknown:
        running.api.get("/v1/nothing")
    assert unknown.value.status == 404
    with pytest.raises(ApiError) as bad:
        running.api.get("/v1/feed?limit=1000")
    assert bad.value.status == 400
    with pytest.raises(ApiError, match="64 hex digits"):
        running.api.post("/v1/reactions", {"target": "xyz", "reaction": "👍"})
    spec = json.loads(urllib.request.urlopen(base + "/openapi.json", timeout=5).read())
    assert spec["openapi"].startswith("3.")
    assert "/v1/feed" in spec["paths"]


def test_the_api_listens_on_loopback_only(running: NodeProcess) -> None:
    port = running.ready["api_port"]
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    for address in addresses - {"127.0.0.1"}:
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex((address, port)) != 0, f"the API answered on {address}"


def test_export_then_forget_me(running: NodeProcess, community: DevCommunity, tmp_path: Path) -> None:
    home = str(running.config.home)
    wait_until(lambda: running.api.get("/v1/status")["app_key_active"], 30, "the app key to be active")
    first = json.loads(kiez("post", "my first post", "--home", home, "--json").output)["id"]
    kiez("post", "my second post", "--home", home)
    kiez("react", first, "❤️", "--home", home)
    out = tmp_path / "me.json"
    exported = kiez("export", "--home", home, "--out", str(out))
    assert re.search(r"[34] messages", exported.output)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text())
    assert data["member"] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    # (and the node's X25519 key for private rooms, once its upkeep has published it)
    assert [m["kind"] for m in data["messages"] if m["kind"] != "xkey"] == ["post", "post", "reaction"]
    assert data["membership"][0]["until_ms"] is None
    assert data["app_keys"][0]["revoked_ms"] is None

    gone = kiez("forget-me", "--yes", "--home", home)
    assert "every node purges what you wrote" in gone.output
    assert "app key" in gone.output
    assert "revoked" in gone.output
    assert "you left the community" in gone.output
    assert kiez("feed", "--home", home).output.strip() == ""
    after = json.loads(kiez("export", "--home", home).output)
    assert [m["kind"] for m in after["messages"]] == ["erase"]
    assert after["erased_until_ms"] is not None
    chain = community.client()
    assert not chain.is_member("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    wait_until(lambda: not running.api.get("/v1/status")["app_key_active"], 30, "the node to see the revocation")
    time.sleep(1.0)  # an ending counts at the end of its block's second (whole-second block times)
    refused = kiez("post", "still here?", "--home", home, ok=False)
    assert "refused (revoked_key)" in refused.output
