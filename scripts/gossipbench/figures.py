"""The figures of one rate step and of one network's sweep: delivery, latency percentiles,
histograms and the highest lossless rate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

HIST_BUCKET_MS = 5
HIST_LIMIT_MS = 500
P99_TARGET_MS = 250.0  # the latency target at the headline rate


def percentile(ordered: list[int], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None if empty)."""
    if not ordered:
        return None
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


def histogram(latencies: list[int]) -> list[int]:
    """Counts per HIST_BUCKET_MS bucket from 0 to HIST_LIMIT_MS, then one overflow bucket."""
    buckets = HIST_LIMIT_MS // HIST_BUCKET_MS
    counts = [0] * (buckets + 1)
    for value in latencies:
        counts[min(max(value, 0) // HIST_BUCKET_MS, buckets)] += 1
    return counts


@dataclass
class Step:
    """One rate step of one network."""

    rate: float
    duration_s: float
    published: int = 0
    publish_errors: int = 0
    achieved_rate: float = 0.0
    delivered_pairs: int = 0
    expected_pairs: int = 0
    min_node_delivery: float = 0.0
    cores: float = 0.0
    machine_cores: float = 0.0
    cpu_s: float = 0.0  # the network's CPU seconds from the first publish to the last delivery
    api_p99_ms: float | None = None
    latencies: list[int] = field(default_factory=list, repr=False)
    profile: dict[str, float] = field(default_factory=dict)

    @property
    def delivery(self) -> float:
        return self.delivered_pairs / self.expected_pairs if self.expected_pairs else 0.0

    @property
    def lossless(self) -> bool:
        return self.expected_pairs > 0 and self.delivered_pairs == self.expected_pairs and self.publish_errors == 0

    @property
    def cpu_ms_per_msg(self) -> float | None:
        """Network-wide CPU (every node process, user + system, from /proc) per published message."""
        return 1000 * self.cpu_s / self.published if self.published else None

    def p(self, q: float) -> float | None:
        return percentile(self.latencies, q)

    def line(self, label: str) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f} ms"

        api = "" if self.api_p99_ms is None else f", API p99 {ms(self.api_p99_ms)}"
        errors = f", {self.publish_errors} publish errors" if self.publish_errors else ""
        return (
            f"{label:<9} {self.rate:>5g}/s {self.duration_s:>4g} s: {self.published} msgs "
            f"(at {self.achieved_rate:.1f}/s){errors}, delivery {self.delivery:.4f} "
            f"(worst node {self.min_node_delivery:.4f}), p50 {ms(self.p(0.5))}, p99 {ms(self.p(0.99))}, "
            f"max {ms(self.p(1.0))}, {self.cores:.2f} cores (machine {self.machine_cores:.2f}), "
            f"{self.cpu_ms_per_msg or 0:.1f} ms CPU/msg{api}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "duration_s": self.duration_s,
            "published": self.published,
            "publish_errors": self.publish_errors,
            "achieved_rate": round(self.achieved_rate, 2),
            "delivery": round(self.delivery, 6),
            "min_node_delivery": round(self.min_node_delivery, 6),
            "p50": self.p(0.5),
            "p90": self.p(0.9),
            "p99": self.p(0.99),
            "max": self.p(1.0),
            "cores": round(self.cores, 3),
            "machine_cores": round(self.machine_cores, 3),
            "cpu_ms_per_msg": None if self.cpu_ms_per_msg is None else round(self.cpu_ms_per_msg, 2),
            "api_p99": self.api_p99_ms,
            "lossless": self.lossless,
            **({"profile": self.profile} if self.profile else {}),
        }


@dataclass
class Run:
    label: str
    steps: list[Step] = field(default_factory=list)
    error: str | None = None
    note: str = ""

    def at(self, rate: float) -> Step | None:
        return next((s for s in self.steps if s.rate == rate), None)

    def max_lossless(self, p99_limit_ms: float | None = None) -> float | None:
        """The highest rate below the first lossy one (or, with ``p99_limit_ms``, the first one
        that was lossy or slower than that at p99): "lossless" alone counts a message delivered
        seconds late, as a saturated network does, as delivered."""
        best = None
        for step in sorted(self.steps, key=lambda s: s.rate):
            p99 = step.p(0.99)
            if not step.lossless or (p99_limit_ms is not None and (p99 is None or p99 > p99_limit_ms)):
                break
            best = step.rate
        return best

    def sweep(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]
