"""Only the member can read their node's home: every file 0600, every directory 0700, whatever
the umask: the database and the files SQLite keeps beside it, the log, the keys and the token,
the attachments it stores, also after a restart and for files an older kiez left readable."""

from __future__ import annotations

import stat
from pathlib import Path

from node.config import NodeConfig
from node.harness.process import NodeProcess, wait_until
from tests.integration.node.cli.kiez import kiez

#: A common umask, set for the node process so the test does not depend on the runner's.
UMASK_022 = ("sh", "-c", 'umask 022 && exec "$@"', "sh")


def modes(home: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(home.stat().st_mode)}
    for path in home.rglob("*"):
        found[str(path.relative_to(home))] = stat.S_IMODE(path.stat().st_mode)
    return found


def assert_private(home: Path) -> dict[str, int]:
    found = modes(home)
    readable = {name: oct(mode) for name, mode in found.items() if mode != (0o700 if name == "." else 0o600)}
    assert readable == {}, f"readable by others in {home}"
    return found


def start(config: NodeConfig) -> NodeProcess:
    node = NodeProcess(config, command_prefix=UMASK_022).start()
    wait_until(lambda: node.api.get("/v1/status")["app_key_active"], 30, "the app key to be active")
    return node


def test_every_file_of_a_running_node_is_private(running: NodeProcess, tmp_path: Path) -> None:
    config = running.config
    home = ("--home", str(config.home))
    running.stop()
    node = start(config)
    try:
        picture = tmp_path / "bench.png"
        picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
        kiez("post", "the new bench", "--attach", str(picture), *home)
        found = assert_private(config.home)
        assert {"node.db", "node.db-wal", "node.db-shm", "node.log", "api_token", "app_key"} <= set(found)
    finally:
        node.stop()
    assert_private(config.home)

    # an older kiez left them readable: the next start takes that back
    for name in ("node.db", "node.log"):
        (config.home / name).chmod(0o644)
    node = start(config)
    try:
        kiez("post", "after the restart", *home)
        assert_private(config.home)
    finally:
        node.stop()
