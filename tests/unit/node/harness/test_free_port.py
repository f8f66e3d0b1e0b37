"""The harness's ports come from below the ephemeral range, where no outgoing connection's source
port can take them between the probe and the node's bind."""

from __future__ import annotations

import socket
from pathlib import Path

from node.harness.process import free_port


def test_ports_are_free_and_below_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(port < low for port in ports)
    assert len(ports) > 40  # random picks, so parallel workers rarely meet
    for port in list(ports)[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
