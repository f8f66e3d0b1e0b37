"""The pure parts of scripts/bench_gossip.py (in scripts/gossipbench/): the topology it builds and
how it scores a sweep.

The benchmark itself needs Anvil, ten node processes and Node.js; these checks guard the pieces
whose mistakes would make its figures wrong without any error: a disconnected or unseeded mesh,
a percentile off by one, a "lossless" rate reached only by delivering seconds late.
"""

from __future__ import annotations

import pytest
from gossipbench.figures import HIST_BUCKET_MS, HIST_LIMIT_MS, Run, Step, histogram, percentile
from gossipbench.sweep import neighbours

from node.harness.cluster import random_mesh


def test_random_mesh_is_connected_reproducible_and_never_dials_itself() -> None:
    addrs = [f"/ip4/127.0.0.1/tcp/{4000 + i}" for i in range(10)]
    first = [random_mesh(3, seed=1)(i, addrs) for i in range(10)]
    again = [random_mesh(3, seed=1)(i, addrs) for i in range(10)]
    assert first == again
    assert all(len(dials) == 3 and addrs[i] not in dials for i, dials in enumerate(first))
    degrees = neighbours(random_mesh(3, seed=1), 10)
    assert min(degrees) >= 3
    assert first != [random_mesh(3, seed=2)(i, addrs) for i in range(10)]


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([], 0.5) is None


def _step(rate: float, delivered: int, p99: int) -> Step:
    step = Step(rate=rate, duration_s=1, delivered_pairs=delivered, expected_pairs=10)
    step.latencies = [p99] * 100
    return step


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(None, 50.0), (250.0, 20.0)],
)
def test_max_lossless_stops_at_the_first_loss_or_slow_step(limit: float | None, expected: float) -> None:
    run = Run("py", [_step(10, 10, 30), _step(20, 10, 200), _step(50, 10, 5000), _step(70, 9, 9000)])
    assert run.max_lossless(limit) == expected


def test_histogram_clamps_into_an_overflow_bucket() -> None:
    counts = histogram([0, 4, 5, 499, 500, 10_000, -3])
    assert counts[0] == 3  # 0, 4 and the negative one
    assert counts[1] == 1
    assert counts[99] == 1
    assert counts[-1] == 2
    assert len(counts) == HIST_LIMIT_MS // HIST_BUCKET_MS + 1
