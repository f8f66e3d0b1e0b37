#!/usr/bin/env python3
"""Gossip throughput and latency of kiez nodes, beside a js-libp2p reference network.

What runs. Ten (``--nodes``) real kiez node processes (``kiez node run``: py-libp2p gossipsub,
Noise, yamux, validation, SQLite), each a founder of one community on a dedicated Anvil chain,
in a random mesh: every node dials 3 (``--dials``) others picked with a fixed seed (the same
graph every run; connections go both ways, so nodes have 3-6 peers). Then the same topology with
js-libp2p nodes (``scripts/js/gossip-node.mjs``: libp2p 2.10, @chainsafe/libp2p-gossipsub 14.1.2,
StrictSign, content-addressed ids, kiez's mesh parameters D=4/3/6, 1 s heartbeat, no flood publish,
/meshsub/1.1.0), one process each, carrying messages of the same size.

What is published. Posts go round-robin over the members at a fixed network-wide rate: through each
kiez node's local API (``POST /v1/posts``, one worker thread per node so a slow node never holds up
the pacing of the others), and through a ``pub`` line on each js node's stdin. Every kiez post's
text is padded so that its signed envelope (the gossiped bytes) is exactly 1024 bytes; every js
message's data is 1024 bytes too. The per-member rate limit (burst 60, then 10/s) caps a rate at
10/s per node; the rates swept stay below it. A 10 s warm-up at 10 posts/s precedes the
measurements (cold starts on 2 cores distort the first seconds). Each rate
step publishes for 15 s (``--sweep-duration``), the headline rate (50/s) for 30 s
(``--duration``); then the script waits up to ``--drain`` seconds for the last deliveries.

What is measured, at every node. For each (message, node other than its author): delivered or not,
and its latency = the time the node stored it (kiez: ``messages.received_ms`` in the node's own
SQLite, read through a read-only connection; js: the node's clock when gossipsub delivered it)
minus the time its author created it (kiez: the envelope's signed ``timestamp_ms``; js: the
author's clock, carried in the message). All processes share this machine's clock. Delivery ratio =
delivered pairs / (messages × (nodes - 1)); p50/p99 over all delivered pairs. A rate is lossless
when every pair was delivered and every publish succeeded; the sweep goes up in rate and stops
after the first lossy one (``--keep-going`` runs all); ``max_lossless_rate`` is the highest rate
below the first loss. CPU is the node processes' user+system time over the publishing window,
in cores ("machine" is every process on the machine, so a busy neighbour shows); CPU per message
(``cpu_ms_per_msg_by_rate``, ``js_cpu_ms_per_msg_by_rate``) is all node processes' CPU from the
first publish until the last delivery (or the drain's end) over the messages published, and
``cpu_per_msg_vs_js_ratio`` compares it at 20 posts/s, below both networks' saturation. Sync
(reconciliation every 30 s) is set to once an hour for the benchmark, so the figures are
gossip's alone; the chain watcher polls every second (a node's default).

``--profile DIR`` also records every kiez node with py-spy during the loopback headline step and
prints where their CPU goes (py-libp2p layers, kiez's validation and storage, trio's scheduler).

Network namespaces (``--skip-netns`` to skip). The same benchmark again with each node (kiez, then
js) in its own network namespace and the chain in another, linked through a router namespace
(see scripts/netns_lab.py), with 25 ms ± 10 % delay and 1 % loss on every packet between two
namespaces: ``tc netem delay 25ms 2.5ms loss 1%``, or, on a kernel built without sch_netem, the
same delay, jitter and loss applied by scripts/nfq_delay.py through an NFQUEUE rule. The script
creates and always deletes the namespaces (``kiez-bench-*``); it needs root.

Usage: .venv/bin/python scripts/bench_gossip.py [--nodes 10] [--rates 10,20,30,50,70,100]
       [--duration 30] [--sweep-duration 15] [--netns-rates 20,50,100] [--skip-js] [--skip-netns]
The last line printed is one JSON object with every figure: the headline ones (``delivery_ratio``,
``p50_ms``, ``p99_ms``, ``max_lossless_rate``, ``js_*``, ``p99_vs_js_ratio`` and ``netns_*`` for
the namespaces), one list of per-rate steps per network (``sweep``, ``js_sweep``, ``netns_sweep``,
``netns_js_sweep``: rate, delivery, p50, p99, ...) and latency histograms of the loopback headline
runs (``histogram``, ``js_histogram``: counts per 5 ms up to 500 ms, then one overflow bucket).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from gossipbench.common import MESSAGE_BYTES, say
from gossipbench.figures import Run
from gossipbench.report import report
from gossipbench.runs import run_js, run_kiez_loopback, run_netns
from gossipbench.swarm import text_length_for
from gossipbench.sweep import Plan, neighbours
from netns_lab import LabError
from procstat import machine_busy_seconds

from node.core.limits import RATE_PER_SECOND
from node.harness.cluster import random_mesh


def parse_rates(text: str) -> list[float]:
    return sorted({float(part) for part in text.split(",") if part.strip()})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--dials", type=int, default=3, help="peers each node dials (random, seeded)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random topology")
    parser.add_argument("--rates", default="10,20,30,50,70,100", help="posts/s network-wide, loopback sweep")
    parser.add_argument("--netns-rates", default="10,20,50,100", help="posts/s network-wide, namespace sweep")
    parser.add_argument("--headline-rate", type=float, default=50.0)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of publishing at the headline rate")
    parser.add_argument("--sweep-duration", type=float, default=15.0, help="seconds of publishing at other rates")
    parser.add_argument("--drain", type=float, default=8.0, help="seconds to wait for late deliveries")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of warm-up publishing (10/s)")
    parser.add_argument("--keep-going", action="store_true", help="sweep every rate, even after a lossy one")
    parser.add_argument("--sync-interval", type=float, default=3600.0, help="kiez sync period (gossip alone)")
    parser.add_argument("--skip-py", action="store_true", help="no kiez networks (js only)")
    parser.add_argument("--skip-js", action="store_true", help="no js-libp2p networks")
    parser.add_argument("--skip-loopback", action="store_true", help="only the namespace runs")
    parser.add_argument("--skip-netns", action="store_true", help="only the loopback runs")
    parser.add_argument("--impairment", choices=("auto", "netem", "nfqueue", "none"), default="auto")
    parser.add_argument("--quick", action="store_true", help="a shrunk run to try the script (not for figures)")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="py-spy every kiez node during the loopback headline step"
    )
    args = parser.parse_args()
    if args.quick:
        args.rates, args.netns_rates = "20", ""
        args.duration, args.sweep_duration, args.warmup, args.drain = 10.0, 5.0, 3.0, 5.0
    limit = args.nodes * RATE_PER_SECOND
    args.rate_list = sorted(set(parse_rates(args.rates)) | {args.headline_rate})
    args.netns_rate_list = sorted(set(parse_rates(args.netns_rates)) | {args.headline_rate})
    planned = ([] if args.skip_loopback else args.rate_list) + ([] if args.skip_netns else args.netns_rate_list)
    too_fast = sorted({r for r in planned if r > limit})
    if too_fast:
        parser.error(f"rates {too_fast} exceed the per-member rate limit: {args.nodes} nodes × {RATE_PER_SECOND:g}/s")
    return args


def main() -> None:
    args = parse_args()

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through every finally: nodes stopped, namespaces deleted

    # Ctrl-C and SIGTERM alike (also when started from a shell that ignores SIGINT in background jobs).
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        run_all(args)
    except KeyboardInterrupt:
        say("interrupted: every node stopped, every namespace deleted")
        sys.exit(130)


def run_all(args: argparse.Namespace) -> None:
    started = time.monotonic()
    busy0 = machine_busy_seconds()
    time.sleep(2)
    idle_load = (machine_busy_seconds() - busy0) / (time.monotonic() - started)
    load_start = os.getloadavg()
    say(
        f"machine: {os.cpu_count()} cores, {idle_load:.2f} of them busy before the benchmark started "
        f"(load average {' '.join(f'{x:.2f}' for x in load_start)})"
    )
    if idle_load > 0.3:
        say("WARNING: other processes are using this machine; the figures below share its CPU with them")
    text_length = text_length_for(MESSAGE_BYTES)
    topology = random_mesh(args.dials, args.seed)
    degrees = neighbours(topology, args.nodes)
    say(
        f"gossip benchmark: {args.nodes} nodes, each dials {args.dials} random others (seed {args.seed}; "
        f"peers per node {min(degrees)}-{max(degrees)}), messages of {MESSAGE_BYTES} bytes "
        f"(kiez: post text of {text_length} characters, whole signed envelope {MESSAGE_BYTES} B)"
    )
    say(
        f"rates {', '.join(f'{r:g}' for r in args.rate_list)} posts/s, {args.sweep_duration:g} s each, "
        f"{args.headline_rate:g}/s for {args.duration:g} s; warm-up {args.warmup:g} s; drain ≤ {args.drain:g} s"
    )
    plan = Plan(
        args.rate_list, args.headline_rate, args.duration, args.sweep_duration, args.drain, args.warmup, args.keep_going
    )
    runs: dict[str, Run] = {}
    netns_note = ""
    delayer: dict[str, Any] = {}
    if not args.skip_loopback:
        if not args.skip_py:
            runs["py"] = run_kiez_loopback(args, replace(plan, profile_dir=args.profile), topology, text_length)
        if not args.skip_js:
            hosts = ["127.0.0.1"] * args.nodes
            runs["js"] = run_js("js", args, plan, topology, hosts, [()] * args.nodes)
    if not args.skip_netns:
        try:
            lab_runs, netns_note, delayer = run_netns(
                args, replace(plan, rates=args.netns_rate_list), topology, text_length
            )
            runs.update({r.label: r for r in lab_runs})
        except LabError as exc:
            netns_note = f"not run: {exc}"
            say(f"netns: {netns_note}")
    figures = report(runs, args, text_length, degrees, netns_note, time.monotonic() - started)
    figures["netns_delayer"] = delayer or None
    figures["machine_busy_cores_before"] = round(idle_load, 3)
    # uptime's 1/5/15-minute load averages at the start and the end: a shared machine shows here.
    figures["load_average_start"] = [round(x, 2) for x in load_start]
    figures["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
