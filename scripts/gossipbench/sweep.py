"""Publishing at a rate and measuring what each node received: one step, and a sweep of steps
after a warm-up; and waiting for a network to form its topology first."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procstat import cpu_seconds, machine_busy_seconds

from gossipbench.common import now_ms, say
from gossipbench.figures import Step, percentile
from gossipbench.profile import profile_summary, start_profilers
from gossipbench.swarm import Swarm
from node.errors import NodeError
from node.harness.cluster import Bootstrap
from node.harness.process import wait_until

WARMUP_RATE = 10.0


class Clock:
    """Publishing sequence numbers, unique over a whole run."""

    def __init__(self) -> None:
        self.seq = 0

    def next(self) -> int:
        self.seq += 1
        return self.seq


def publish_at(swarm: Swarm, clock: Clock, rate: float, seconds: float) -> float:
    """Publishes round-robin at ``rate`` for ``seconds``; returns the achieved rate."""
    count = max(1, round(rate * seconds))
    start = time.monotonic()
    for k in range(count):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        swarm.publish(k % swarm.size, clock.next())
    elapsed = time.monotonic() - start
    return count / max(elapsed, count / rate)


def measure(swarm: Swarm, clock: Clock, rate: float, seconds: float, drain: float) -> Step:
    step = Step(rate=rate, duration_s=seconds)
    since = now_ms() - 1000
    pids = swarm.pids()
    cpu0, busy0, wall0 = cpu_seconds(pids), machine_busy_seconds(), time.monotonic()
    step.achieved_rate = publish_at(swarm, clock, rate, seconds)
    cpu1, busy1, wall1 = cpu_seconds(pids), machine_busy_seconds(), time.monotonic()
    step.cores = (cpu1 - cpu0) / (wall1 - wall0)
    step.machine_cores = (busy1 - busy0) / (wall1 - wall0)
    published, step.publish_errors, api_ms = swarm.finish_publishing()
    step.published = len(published) + step.publish_errors
    if api_ms:
        step.api_p99_ms = percentile(sorted(round(x) for x in api_ms), 0.99)
    deadline = time.monotonic() + drain
    while True:
        seen = [swarm.received(j, since) for j in range(swarm.size)]
        missing = sum(1 for key, a in published.items() for j in range(swarm.size) if j != a and key not in seen[j])
        if missing == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # CPU per message counts the tail too: a network that lags behind pays for its backlog after
    # the publishing window closes, until the last copy is stored.
    step.cpu_s = cpu_seconds(pids) - cpu0
    step.expected_pairs = (len(published) + step.publish_errors) * (swarm.size - 1)
    latencies = []
    per_node = []
    for j in range(swarm.size):
        mine = [key for key, a in published.items() if a != j]
        got = [key for key in mine if key in seen[j]]
        per_node.append(len(got) / len(mine) if mine else 1.0)
        for key in got:
            sent = swarm.sent_ms(key)
            if sent is not None:
                latencies.append(seen[j][key] - sent)
    step.delivered_pairs = sum(
        1 for key, a in published.items() for j in range(swarm.size) if j != a and key in seen[j]
    )
    step.min_node_delivery = min(per_node) if per_node else 0.0
    step.latencies = sorted(latencies)
    return step


@dataclass
class Plan:
    rates: list[float]
    headline: float
    duration: float
    sweep_duration: float
    drain: float
    warmup: float
    keep_going: bool
    profile_dir: Path | None = None


def sweep(swarm: Swarm, label: str, plan: Plan) -> list[Step]:
    clock = Clock()
    if plan.warmup > 0:
        say(f"{label}: warm-up, {plan.warmup:g} s at {WARMUP_RATE:g}/s")
        publish_at(swarm, clock, WARMUP_RATE, plan.warmup)
        swarm.finish_publishing()
        time.sleep(2)
    steps: list[Step] = []
    lossy = False
    for rate in plan.rates:
        if lossy and rate != plan.headline:
            say(f"{label:<9} {rate:>5g}/s: skipped (a lower rate already lost messages)")
            continue
        seconds = plan.duration if rate == plan.headline else plan.sweep_duration
        spies = []
        if plan.profile_dir is not None and rate == plan.headline:
            spies = start_profilers(swarm.pids(), plan.profile_dir, seconds)
        step = measure(swarm, clock, rate, seconds, plan.drain)
        say(step.line(label))
        if spies:
            for spy in spies:
                spy.wait()
            assert plan.profile_dir is not None
            step.profile = profile_summary(plan.profile_dir)
            say(f"{label}: py-spy over all nodes at {rate:g}/s (raw stacks in {plan.profile_dir}):")
            for name, share in step.profile.items():
                say(f"  {100 * share:5.1f} %  {name}")
        steps.append(step)
        if not step.lossless and not plan.keep_going:
            lossy = True
        time.sleep(1)
    return steps


def neighbours(topology: Bootstrap, size: int) -> list[int]:
    """How many distinct peers each node has once everyone dialed its bootstrap list."""
    names = [str(i) for i in range(size)]
    links: list[set[int]] = [set() for _ in range(size)]
    for i in range(size):
        for j in (int(n) for n in topology(i, names)):
            if j != i:
                links[i].add(j)
                links[j].add(i)
    return [len(s) for s in links]


def wait_for_topology(status: Callable[[int], dict[str, Any]], expected: list[int], what: str) -> None:
    """Waits until every node is connected to the peers the topology gives it and has a gossip
    mesh (not necessarily of D_low peers: a peer that pruned us over D_high refuses our GRAFT
    for its backoff of a minute); names the nodes that lag if it times out."""
    last: list[dict[str, Any]] = []

    def ready() -> bool:
        last[:] = [status(i) for i in range(len(expected))]
        return all(s["peers"] >= expected[i] and s["mesh"] >= 1 for i, s in enumerate(last))

    try:
        wait_until(ready, 90, what, interval=0.5)
    except NodeError as exc:
        lagging = [
            f"node {i}: {s} (expected {expected[i]} peers)" for i, s in enumerate(last) if s["peers"] < expected[i]
        ]
        raise NodeError(f"{exc}; " + "; ".join(lagging or [f"node {i}: {s}" for i, s in enumerate(last)])) from None
