#!/usr/bin/env python3
"""Members behind NATs, measured (root only): a NAT lab of network namespaces
(``node.harness.natlab``) with one member's node on a public address and one behind each home's
NAT router (iptables MASQUERADE), optionally with NFQUEUE delay and loss on the internet's path.

Figures (each ``null`` where the part of the node it needs is not there yet, with a note saying so):

- ``join_to_first_post_s``: from ``kiez join INVITE`` in a fresh home behind a NAT to the
  newcomer's first post on every node;
- ``direct_ratio``: of the pairs of NATed nodes that exchanged posts, the share whose connection
  ended direct (DCUtR) rather than relayed, as the nodes report it in ``kiez status``;
- ``relay_bytes_per_post``: bytes the public node relayed, per post exchanged between homes;
- ``reconnect_from_address_book_s``: a home node restarted with an empty bootstrap list, until
  it has a peer again (from its address book alone);
- ``post_to_all_s``: the median time from a post at a home to that post on every node.

The last line printed is one JSON object.

Usage: sudo .venv/bin/python scripts/bench_nat.py [--homes 3] [--posts 10] [--delay-ms 25 --loss 0.01]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from governance.anvil import Anvil
from node.config import NodeConfig
from node.errors import NodeError
from node.harness import onboarding
from node.harness.cluster import Network
from node.harness.natlab import NatLab
from node.harness.natnet import (
    NODE_API_PORT,
    NODE_P2P_PORT,
    kiez_in,
    lab_node,
    restart,
    start_lab_chain,
    start_nat_network,
)
from node.harness.netns import LabError, Shaping
from node.harness.process import until_accepted, wait_until

WAIT_S = 60.0


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def post_to_all(net: Network, homes: int, posts: int) -> list[float]:
    """Seconds from each post (made at the homes in turn) until every node has it."""
    took = []
    for n in range(posts):
        author = 1 + n % homes
        started = time.monotonic()
        post = net.post(author, f"bench post {n} from home {author - 1}")
        wait_until(lambda p=post: all(net.has_post(i, p) for i in range(len(net.nodes))), WAIT_S, "a post", 0.02)
        took.append(time.monotonic() - started)
    return took


def connection_kinds(net: Network) -> dict[str, int] | None:
    """The homes' counts of how their connections to other NATed nodes ended (``direct`` after
    DCUtR, ``relayed``), from ``kiez status``; None where the nodes do not report them."""
    total: dict[str, int] = {"direct": 0, "relayed": 0}
    for i in range(1, len(net.nodes)):
        found = net.status(i).get("connections")
        if not isinstance(found, dict) or not {"direct", "relayed"} <= found.keys():
            return None
        for kind in total:
            total[kind] += int(found[kind])
    return total


def relayed_bytes(net: Network) -> int | None:
    """Bytes the public node relayed for others (``kiez status``), or None where it does not say."""
    relay = net.status(0).get("relay")
    if not isinstance(relay, dict) or "bytes" not in relay:
        return None
    return int(relay["bytes"])


def reconnect_from_address_book(net: Network) -> float | None:
    """Restarts home 0's node with no bootstrap peers; seconds until it has a peer again, or None
    if it finds none within ``WAIT_S`` (no address book to dial from)."""
    node = net.nodes[1]
    node.stop()
    started = time.monotonic()  # from the node's launch: start-up counts, as for a member
    restart(node, bootstrap=())  # (already stopped: only reconfigures and starts)
    try:
        wait_until(lambda: node.api.get("/v1/status")["peers"] >= 1, WAIT_S, "a peer from the address book", 0.05)
    except NodeError:
        return None
    return time.monotonic() - started


def join_to_first_post(lab: NatLab, net: Network, anvil: Anvil, home: Path) -> float:
    """A newcomer in the lab's last home (no node there yet) joins by an invite from the public
    node, the founders vote at once; seconds from ``kiez join`` until the newcomer's first post is
    on every node (the vote's wait included, as short as the founders make it here)."""
    run = partial(kiez_in, lab)
    onboarding.make_sponsor(net, anvil, 0, lab.public(0), run, lab.on_chain)
    text = onboarding.invite(net, 0, lab.public(0), run)
    k = len(lab.hosts) - 2  # the last home's index (hosts: the public one, then every home)
    ns = lab.home(k)
    where = ["--p2p-host", lab.home_address(k), "--p2p-port", str(NODE_P2P_PORT), "--api-port", str(NODE_API_PORT)]
    started = time.monotonic()
    onboarding.join(run, ns, home, text, "--no-wait", *where)
    lab.on_chain(lambda: onboarding.vote_in(net, onboarding.newcomer(home), tuple(range(1, len(net.dev.founders)))))
    onboarding.join(run, ns, home, text)
    node = lab_node(lab, ns, NodeConfig.load(home)).start()
    try:
        answer = until_accepted(lambda: node.api.post("/v1/posts", {"text": "my first post"}), "the first post")
        wait_until(lambda: all(net.has_post(i, answer["id"]) for i in range(len(net.nodes))), WAIT_S, "it everywhere")
        return time.monotonic() - started
    finally:
        node.stop()


def measure(args: argparse.Namespace, notes: list[str]) -> dict[str, Any]:
    shaping = Shaping(args.delay_ms, args.jitter_ms, args.loss) if args.delay_ms or args.loss else None
    with (
        NatLab(homes=args.homes + 1, shaping=shaping) as lab,
        tempfile.TemporaryDirectory(prefix="kiez-bench-nat-") as tmp,
    ):
        shaped = shaping.describe() if shaping else "none"
        say(f"lab: 1 public host, {args.homes} homes behind NAT and one for a newcomer; shaping: {shaped}")
        anvil = start_lab_chain(lab)
        try:
            spots = lab.hosts[:-1]  # the last home is the newcomer's
            net = start_nat_network(lab, anvil, Path(tmp), spots, configure=lambda c: c.with_changes(sync_interval=5.0))
            try:
                before = relayed_bytes(net)
                took = post_to_all(net, args.homes, args.posts)
                say(f"posts from the homes reached every node in {statistics.median(took):.3f} s (median)")
                after = relayed_bytes(net)
                kinds = connection_kinds(net)
                reconnect = reconnect_from_address_book(net)
                joined = join_to_first_post(lab, net, anvil, Path(tmp) / "newcomer")
                say(f"kiez join to the newcomer's first post on every node: {joined:.1f} s")
            finally:
                net.stop()
        finally:
            anvil.stop()
    if kinds is None:
        notes.append("direct_ratio: the nodes report no connection kinds (direct/relayed) in their status yet")
    if before is None or after is None:
        notes.append("relay_bytes_per_post: the public node reports no relayed bytes in its status yet")
    if reconnect is None:
        notes.append(f"reconnect_from_address_book_s: a node restarted without bootstrap found no peer in {WAIT_S:g} s")
    finished = sum(kinds.values()) if kinds else 0
    return {
        "join_to_first_post_s": round(joined, 2),
        "direct_ratio": round(kinds["direct"] / finished, 3) if kinds and finished else None,
        "relay_bytes_per_post": round((after - before) / args.posts)
        if before is not None and after is not None
        else None,
        "reconnect_from_address_book_s": None if reconnect is None else round(reconnect, 3),
        "post_to_all_s": round(statistics.median(took), 3),
        "homes": args.homes,
        "posts": args.posts,
        "shaping": shaping.describe() if shaping else "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, default=3)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="delay on the internet's path (NFQUEUE)")
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--loss", type=float, default=0.0, help="fraction of packets dropped on the internet's path")
    args = parser.parse_args()
    notes: list[str] = []
    try:
        figures = measure(args, notes)
    except LabError as exc:
        sys.exit(f"bench_nat: {exc}")
    for note in notes:
        say(f"note: {note}")
    print(json.dumps({**figures, "notes": notes}))


if __name__ == "__main__":
    main()
