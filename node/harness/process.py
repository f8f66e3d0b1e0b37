"""One node process on this machine: a home prepared like ``kiez init`` does (without an
encrypted keystore: the harness signs governance transactions with Anvil's dev accounts), the
process started as ``python -m node.cli node run`` and read back through its API, and the waits
that tests and the devnet share."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from node.api.client import ApiClient
from node.config import NodeConfig, create_secrets, read_secret
from node.core.jsontext import parse
from node.core.signing import Signer
from node.core.types import AppKey
from node.errors import ApiError, NodeError
from node.harness.netns import NamespaceThread, exec_prefix

T = TypeVar("T")


#: Where free_port looks when the ephemeral range cannot be read (Linux's default starts at 32768).
_EPHEMERAL_LOW = 32768
_LOWEST_PORT = 10000


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, below the ephemeral range.

    A port the OS hands out for ``bind(0)`` comes from the ephemeral range, which outgoing
    connections draw their source ports from too: between this probe and the node's own bind, one
    of the many connections a test makes could take it ("Address already in use"). Ports below
    that range are only ever taken by an explicit bind; a random pick keeps parallel test workers
    apart."""
    low = _ephemeral_low()
    chooser = random.SystemRandom()
    for _ in range(200):
        port = chooser.randrange(_LOWEST_PORT, low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise NodeError(f"no free TCP port on 127.0.0.1 between {_LOWEST_PORT} and {low}")


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return max(_LOWEST_PORT + 1000, int(text.split()[0]))
    except (OSError, ValueError, IndexError):
        return _EPHEMERAL_LOW


def prepare_home(
    home: Path,
    *,
    rpc_url: str,
    community: str,
    chain_id: int,
    name: str,
    bootstrap: tuple[str, ...] = (),
    poll_interval: float = 0.5,
) -> NodeConfig:
    """A node home with fresh keys on free ports; returns its configuration."""
    config = NodeConfig(
        home=home,
        rpc_url=rpc_url,
        community=community,
        chain_id=chain_id,
        p2p_port=free_port(),
        api_port=free_port(),
        bootstrap=bootstrap,
        poll_interval=poll_interval,
        name=name,
        # many nodes of one community on one machine: mDNS would connect them all to each other
        # behind the topology a test or benchmark sets up (tests that want it turn it on)
        mdns=False,
    )
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    create_secrets(config)
    config.save()
    return config


def app_key_of(config: NodeConfig) -> AppKey:
    return Signer(read_secret(config.app_key_path, 32)).public_key


def peer_addr(config: NodeConfig) -> str:
    """The multiaddr other nodes dial to reach this one (known before it starts)."""
    from node.p2p.identity import peer_id_from_seed  # noqa: PLC0415 - libp2p only where needed

    peer = peer_id_from_seed(read_secret(config.p2p_key_path, 32))
    return f"/ip4/{config.p2p_host}/tcp/{config.p2p_port}/p2p/{peer}"


@dataclass
class NodeProcess:
    """One running node. ``start`` returns once it printed its ready line."""

    config: NodeConfig
    process: subprocess.Popen[bytes] | None = None
    ready: dict[str, Any] = field(default_factory=dict)
    log_path: Path | None = None
    #: Run the node through this command, e.g. ``("ip", "netns", "exec", NAME)`` (it must exec it,
    #: so that signals reach the node itself).
    command_prefix: tuple[str, ...] = ()
    #: Run the node in this thread's network namespace, and make its API calls from that thread
    #: (the API listens on the namespace's own loopback).
    namespace: NamespaceThread | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def api(self) -> ApiClient:
        if self.namespace is not None:
            return NamespaceApiClient(self.config, self.namespace)
        return ApiClient.for_node(self.config)

    def in_namespace(self, call: Callable[[], T]) -> T:
        """Runs ``call`` where the node's network is: its namespace's thread, or right here."""
        return call() if self.namespace is None else self.namespace.call(call)

    def find(self, path: str) -> dict[str, Any] | None:
        """``GET path`` on the node's API, or None where it answers 404 (not there, or not yet)."""
        try:
            found: dict[str, Any] = self.api.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    def has_post(self, post_id: str) -> bool:
        return self.find(f"/v1/posts/{post_id}") is not None

    def start(self, timeout: float = 60.0, log_level: str = "info") -> NodeProcess:
        self.launch(log_level)
        return self.wait_ready(timeout)

    def launch(self, log_level: str = "info") -> None:
        """Starts the process without waiting for it (``wait_ready`` waits; a crash test may
        kill it while it starts up)."""
        self.log_path = self.config.home / "node.log"
        log = _private_log(self.log_path)
        prefix = exec_prefix(self.namespace.ns) if self.namespace is not None else self.command_prefix
        self.process = subprocess.Popen(
            [
                *prefix,
                sys.executable,
                "-m",
                "node.cli",
                "node",
                "run",
                "--home",
                str(self.config.home),
                "--log-level",
                log_level,
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches the devnet, which stops us in order
        )
        log.close()

    def wait_ready(self, timeout: float = 60.0) -> NodeProcess:
        """Returns once the launched process printed its ready line; kills it if it does not."""
        assert self.process is not None
        assert self.process.stdout is not None
        try:
            if self._await_ready(self.process.stdout, timeout):
                return self
        except BaseException:  # Ctrl-C while it starts: it is no orphan
            self.kill()
            raise
        self.kill()
        raise NodeError(f"node {self.name} did not start:\n{self.log_tail()}")

    def _await_ready(self, stdout: IO[bytes], timeout: float) -> bool:
        """Reads the node's output until its ready line (True), its end or the deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = stdout.readline()
            if not line:
                return False
            if line.startswith(b'{"ready"'):
                self.ready = parse(line)["ready"]
                return True
        return False

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, the way a member's Ctrl-C stops it; SIGKILL if it does not stop in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def kill(self) -> None:
        """SIGKILL: a crash, for durability tests."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def kill_strays(root: Path) -> list[int]:
    """SIGKILLs every ``kiez node run`` whose home is under ``root`` and returns their pids: a
    Ctrl-C that lands while ``subprocess.Popen`` forks leaves a child nobody holds a handle to.
    Linux only (``/proc``); elsewhere nothing is found."""
    marker = f"--home\0{root}/".encode()
    killed = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"node.cli\0node\0run\0" in cmdline and marker in cmdline and int(entry.name) != os.getpid():
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except OSError:
                pass
    return killed


class NamespaceApiClient(ApiClient):
    """A node's API client whose requests are made from a thread in the node's network namespace
    (a connection's socket lives in the namespace of the thread that opened it)."""

    def __init__(self, config: NodeConfig, thread: NamespaceThread) -> None:
        super().__init__(config.api_url, read_secret(config.token_path).strip())
        self.thread = thread

    def _send(self, method: str, path: str, data: bytes | None, content_type: str) -> tuple[str, bytes]:
        return self.thread.call(super()._send, method, path, data, content_type)


def _private_log(path: Path) -> IO[bytes]:
    """The node's log, appended to; only its owner may read it (it names peers, rooms and
    errors), like every file in the home, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)  # a log an older harness created 0644
    return os.fdopen(fd, "ab")


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    """Polls ``predicate()`` until it is true; raises ``NodeError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except NodeError:
            pass
        if time.monotonic() > deadline:
            raise NodeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def until_accepted(call: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Retries an API request the node refuses for now (422: e.g. an X25519 key or a room key it
    has not seen yet) until it is accepted; returns its answer. Other errors are raised at once."""
    result: list[Any] = []

    def attempt() -> bool:
        try:
            result.append(call())
        except ApiError as exc:
            if exc.status != 422:
                raise
            return False
        return True

    wait_until(attempt, timeout, what, 0.5)
    return result[0]
