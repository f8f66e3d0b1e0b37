#!/usr/bin/env python3
"""A node's memory and its member's API while strangers flood the API without the token.

Starts Anvil, a community of one and its member's node process, then:

1. opens ``--bodies`` connections that each announce and push a 2 MiB body without a token (the
   attack that once took a node from 183 to 1,258 MB), and samples the node's resident set size
   (VmRSS) while they push, and again once they have closed;
2. opens ``--idle`` connections that send nothing, and times the member's own requests meanwhile.

The node's own counts (``api`` in /v1/status: peak connections, peak bytes buffered, refusals)
are printed with the RSS figures. The last line printed is one JSON object.
Usage: .venv/bin/python scripts/bench_api_flood.py [--bodies 600] [--idle 5000]
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_memory import PeakSampler
from procstat import rss_mb

from governance.anvil import start_anvil
from governance.devchain import deploy_dev_community
from node.harness.process import NodeProcess, app_key_of, prepare_home, wait_until

BODY = 2 * 1024 * 1024


def start_node(rpc_url: str, anvil: Any, home: Path) -> NodeProcess:
    dev = deploy_dev_community(anvil, founders=1)
    config = prepare_home(home, rpc_url=rpc_url, community=dev.address, chain_id=dev.chain_id, name="member")
    dev.client(dev.founders[0]).add_key(app_key_of(config))
    node = NodeProcess(config).start()
    wait_until(lambda: node.api.get("/v1/status")["app_key_active"], 60, "an active app key")
    return node


def push_bodies(port: int, count: int) -> dict[str, int]:
    """``count`` strangers each announcing and pushing a 2 MiB body with no token, all at once;
    returns how many were answered 401 and how many bytes they got the node's kernel to take."""
    head = f"POST /v1/blobs HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {BODY}\r\n\r\n".encode()
    chunk = b"\xff" * 65536
    sent = {"answered_401": 0, "bytes_pushed": 0}
    with selectors.DefaultSelector() as selector:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(head)
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, [BODY])
        deadline = time.monotonic() + 30
        while selector.get_map() and time.monotonic() < deadline:
            for key, events in selector.select(timeout=1.0):
                peer, left = key.fileobj, key.data
                if not isinstance(peer, socket.socket):
                    continue
                try:
                    if events & selectors.EVENT_READ:
                        answer = peer.recv(4096)
                        sent["answered_401"] += answer.startswith(b"HTTP/1.1 401 ")
                        raise ConnectionError
                    n = peer.send(chunk[: left[0]])
                    sent["bytes_pushed"] += n
                    left[0] -= n
                    if not left[0]:
                        selector.modify(peer, selectors.EVENT_READ, left)
                except BlockingIOError:
                    continue
                except OSError:
                    selector.unregister(peer)
                    peer.close()
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
    return sent


def member_latency_ms(node: NodeProcess, port: int, idle: int) -> tuple[list[float], int]:
    """The member's request times while ``idle`` silent connections are open."""
    strangers = []
    for _ in range(idle):
        try:
            strangers.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break  # the machine's or the node's limit
    times = []
    try:
        for n in range(10):
            start = time.monotonic()
            node.api.post("/v1/posts", {"text": f"the member, during the flood ({n})"})
            times.append((time.monotonic() - start) * 1000)
    finally:
        for sock in strangers:
            sock.close()
    return times, len(strangers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bodies", type=int, default=600)
    parser.add_argument("--idle", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiez-bench-flood-") as tmp, start_anvil() as anvil:
        node = start_node(anvil.rpc_url, anvil, Path(tmp) / "member")
        try:
            assert node.process is not None
            pid, port = node.process.pid, node.config.api_port
            idle_mb = rss_mb(pid)
            print(f"node up ({idle_mb:.0f} MB); {args.bodies} strangers push 2 MiB bodies …", file=sys.stderr)
            with PeakSampler(pid) as sampler:
                pushed = push_bodies(port, args.bodies)
            time.sleep(1.0)
            after_mb = rss_mb(pid)
            print(f"{args.idle} silent connections, the member posts …", file=sys.stderr)
            times, held = member_latency_ms(node, port, args.idle)
            api = node.api.get("/v1/status").get("api")  # absent before the API counted its connections
        finally:
            node.stop()
    result = {
        "strangers_with_bodies": args.bodies,
        **pushed,
        "rss_idle_mb": round(idle_mb, 1),
        "rss_peak_mb": round(sampler.peak, 1),
        "rss_after_mb": round(after_mb, 1),
        "silent_connections": held,
        "member_post_ms_max": round(max(times), 1),
        "member_post_ms_median": round(sorted(times)[len(times) // 2], 1),
        "api": api,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
