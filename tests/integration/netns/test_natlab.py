"""The NAT lab itself (node/harness/natlab.py), without nodes: what the namespace tests and the
NAT traversal rely on — a home's router maps its flows, a failed run leaves nothing behind, and a
dead process's lab is cleared by the next one."""

from __future__ import annotations

import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from node.harness.natlab import NatLab
from node.harness.netns import in_ns

LAB_HOMES = 2
PORT = 4555


def _namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def _observed_from(lab: NatLab, k: int, local_port: int) -> tuple[str, int]:
    """Connects from home ``k`` (from ``local_port``) to a listener on the public host; returns the
    source address and port the public host saw."""
    server = lab.thread(lab.public(0)).call(lambda: socket.create_server(("0.0.0.0", PORT), reuse_port=True))
    try:

        def dial() -> socket.socket:
            return socket.create_connection((lab.public_address(0), PORT), timeout=2, source_address=("", local_port))

        client = lab.thread(lab.home(k)).call(dial)
        peer, seen = server.accept()
        peer.close()
        client.close()
        return seen[0], seen[1]
    finally:
        server.close()


def test_an_easy_nat_keeps_the_port_and_a_hard_nat_does_not() -> None:
    with NatLab(homes=2, hard_nat=(1,)) as lab:
        assert _observed_from(lab, 0, 40123) == (lab.home_wan_address(0), 40123)  # hole punching can work
        address, port = _observed_from(lab, 1, 40123)
        assert address == lab.home_wan_address(1)
        assert port != 40123  # --random-fully: a new port per flow


def _punch(lab: NatLab, port: int) -> list[str]:
    """Homes 0 and 1 dial each other's router at the same moment, each from ``port`` (a TCP
    simultaneous open, as DCUtR does); returns what each side got."""

    def bound(k: int) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", port))
        sock.settimeout(6)
        return sock

    sockets = [lab.thread(lab.home(k)).call(bound, k) for k in (0, 1)]

    def dial(k: int) -> str:
        try:
            sockets[k].connect((lab.home_wan_address(1 - k), port))
            return "connected"
        except OSError as error:
            return type(error).__name__
        finally:
            sockets[k].close()

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(dial, (0, 1)))


def test_two_easy_nats_let_a_simultaneous_open_through_and_a_hard_one_does_not() -> None:
    with NatLab(homes=2) as lab:
        assert _punch(lab, 40200) == ["connected", "connected"]
    with NatLab(homes=2, hard_nat=(1,)) as lab:
        assert "connected" not in _punch(lab, 40201)


def test_a_failure_inside_the_lab_leaves_no_namespace_behind() -> None:
    created: set[str] = set()

    def failing_run() -> None:
        with NatLab(homes=1) as lab:
            created.update(lab.created)
            assert created <= _namespaces()
            assert "MASQUERADE" in in_ns(lab.home_router(0), "iptables", "-t", "nat", "-S").stdout
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_run()
    assert created
    assert created & _namespaces() == set()  # and with them their links, addresses and rules


def test_a_dead_processs_lab_is_cleared_by_the_next() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = f"kn{gone.pid}x0000-inet"  # a lab whose process died without cleaning up
    subprocess.run(["ip", "netns", "add", stale], check=True)
    try:
        with NatLab(homes=0):
            assert stale not in _namespaces()
    finally:
        subprocess.run(["ip", "netns", "del", stale], capture_output=True, check=False)
