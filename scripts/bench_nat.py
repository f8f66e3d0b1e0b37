#!/usr/bin/env python3
"""Members behind NATs, measured (root only): a NAT lab of network namespaces
(``node.harness.natlab``) with one member's node on a public address and one behind each home's
NAT router (iptables MASQUERADE), optionally with NFQUEUE delay and loss on the internet's path.

Figures (``null`` where a wait ran out, with a note saying so):

- ``join_to_first_post_s``: from ``kiez join INVITE`` in a fresh home behind a NAT to the
  newcomer's first post on every node;
- ``direct_ratio``: of the connected pairs of homes, the share whose connection ended direct
  (a DCUtR hole punch) rather than relayed, as the nodes report it in ``kiez status``;
- ``direct_after_start_s``: from starting the nodes until every pair of homes behind easy NATs
  holds a direct connection (``--hard-nat K …`` puts homes behind a port-randomising NAT);
- ``relay_bytes_per_post``: bytes the public node's relay hop carried, per post made at a home,
  counted once the relayed connections a hole punch replaced have closed;
- ``reconnect_from_address_book_s``: a home node restarted with an empty bootstrap list, until
  it has a peer again (from its address book alone);
- ``post_to_all_s``: the median time from a post at a home to that post on every node.

The last line printed is one JSON object.

Usage: sudo .venv/bin/python scripts/bench_nat.py [--homes 3] [--posts 10] [--hard-nat 2]
       [--delay-ms 25 --loss 0.01]
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
from node.p2p.libp2p_compat.dcutr import RELAY_CLOSE_S

WAIT_S = 60.0
#: From the nodes' start until the easy homes are direct: start-up, dial-backs, reservations,
#: the relayed connection, then the punch (each of these retried on its own clock).
DIRECT_WAIT_S = 240.0


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


def _peer_ids(net: Network) -> list[str]:
    return [str(node.ready["peer_id"]) for node in net.nodes]


def connection_kinds(net: Network) -> dict[str, int]:
    """How the homes' connections to one another stand, from ``kiez status``: ``direct`` (a hole
    punch replaced the relay) or ``relayed``; each pair counted once, unconnected pairs not."""
    ids = _peer_ids(net)
    seen = {i: net.status(i)["connectivity"] for i in range(1, len(net.nodes))}
    total = {"direct": 0, "relayed": 0}
    for i in seen:
        for j in (j for j in seen if j > i):
            if ids[j] in seen[i]["hole_punching"]["direct_peers"] or ids[i] in seen[j]["hole_punching"]["direct_peers"]:
                total["direct"] += 1
            elif ids[j] in seen[i]["relayed_peers"] or ids[i] in seen[j]["relayed_peers"]:
                total["relayed"] += 1
    return total


def all_easy_pairs_direct(net: Network, hard: set[int]) -> bool:
    """Every pair of homes behind easy NATs holds a direct connection."""
    ids = _peer_ids(net)
    easy = [i for i in range(1, len(net.nodes)) if i - 1 not in hard]
    direct = {i: set(net.status(i)["connectivity"]["hole_punching"]["direct_peers"]) for i in easy}
    return all(ids[j] in direct[i] or ids[i] in direct[j] for i in easy for j in easy if i < j)


def relayed_bytes(net: Network) -> int:
    """Bytes the public node's relay hop has carried for others (``kiez status``)."""
    return int(net.status(0)["connectivity"]["relay_hop"]["bytes_relayed"])


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
    hard = set(args.hard_nat)
    with (
        NatLab(homes=args.homes + 1, shaping=shaping, hard_nat=tuple(hard)) as lab,
        tempfile.TemporaryDirectory(prefix="kiez-bench-nat-") as tmp,
    ):
        shaped = shaping.describe() if shaping else "none"
        say(
            f"lab: 1 public host, {args.homes} homes behind NAT (hard: {sorted(hard) or 'none'}) and one for a newcomer"
        )
        say(f"shaping: {shaped}")
        anvil = start_lab_chain(lab)
        try:
            spots = lab.hosts[:-1]  # the last home is the newcomer's
            started = time.monotonic()
            net = start_nat_network(lab, anvil, Path(tmp), spots, configure=lambda c: c.with_changes(sync_interval=5.0))
            try:
                direct_after = _direct_after(net, hard, started)
                if direct_after is not None and args.homes - len(hard) >= 2:
                    say(f"direct; waiting {RELAY_CLOSE_S:g} s for the relayed connections they replaced to close")
                    time.sleep(RELAY_CLOSE_S + 5)
                before = relayed_bytes(net)
                took = post_to_all(net, args.homes, args.posts)
                say(f"posts from the homes reached every node in {statistics.median(took):.3f} s (median)")
                relayed_per_post = (relayed_bytes(net) - before) / args.posts
                kinds = connection_kinds(net)
                say(f"connections between homes: {kinds['direct']} direct, {kinds['relayed']} relayed")
                reconnect = reconnect_from_address_book(net)
                joined = join_to_first_post(lab, net, anvil, Path(tmp) / "newcomer")
                say(f"kiez join to the newcomer's first post on every node: {joined:.1f} s")
            finally:
                net.stop()
        finally:
            anvil.stop()
    if direct_after is None:
        notes.append(f"direct_after_start_s: the easy homes were not all directly connected within {DIRECT_WAIT_S:g} s")
    if reconnect is None:
        notes.append(f"reconnect_from_address_book_s: a node restarted without bootstrap found no peer in {WAIT_S:g} s")
    finished = sum(kinds.values())
    return {
        "join_to_first_post_s": round(joined, 2),
        "direct_ratio": round(kinds["direct"] / finished, 3) if finished else None,
        "direct_after_start_s": None if direct_after is None else round(direct_after, 1),
        "relay_bytes_per_post": round(relayed_per_post),
        "reconnect_from_address_book_s": None if reconnect is None else round(reconnect, 3),
        "post_to_all_s": round(statistics.median(took), 3),
        "homes": args.homes,
        "hard_nat_homes": len(hard),
        "posts": args.posts,
        "shaping": shaping.describe() if shaping else "none",
    }


def _direct_after(net: Network, hard: set[int], started: float) -> float | None:
    """Seconds from the network's start until every pair of easy homes is direct, or None."""
    try:
        wait_until(
            lambda: all_easy_pairs_direct(net, hard), DIRECT_WAIT_S, "direct connections between the easy homes", 1
        )
    except NodeError:
        return None
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, default=3)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--hard-nat", type=int, nargs="*", default=[], metavar="K", help="homes behind a hard NAT")
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
