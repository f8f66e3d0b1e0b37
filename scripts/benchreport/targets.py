"""Every figure the benchmarks are held to, with its target, in one list.

The report prints each figure beside its target and the run it came from; the README's
performance table is rendered from the same list and the same ``figures.json``, so the two can
never disagree (a unit test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

START, END = "<!-- performance-table: start -->", "<!-- performance-table: end -->"


@dataclass(frozen=True)
class Target:
    bench: str  # the key in figures.json (the report's benchmark name)
    key: str  # the figure in that benchmark's JSON line
    label: str
    limit: float
    at_most: bool = True  # False: the figure must be at least ``limit``
    unit: str = ""

    @property
    def script(self) -> str:
        return f"bench_{self.bench}.py"

    def value(self, results: dict[str, dict[str, Any]]) -> float | None:
        found = results.get(self.bench, {}).get(self.key)
        return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else None

    def met(self, results: dict[str, dict[str, Any]]) -> bool | None:
        """Whether the figure meets the target; None when it was not measured."""
        value = self.value(results)
        if value is None:
            return None
        return value <= self.limit if self.at_most else value >= self.limit

    def wanted(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {_number(self.limit)}{self.unit}"

    def measured(self, results: dict[str, dict[str, Any]]) -> str:
        value = self.value(results)
        return "not measured" if value is None else f"{_number(value)}{self.unit}"

    def mark(self, results: dict[str, dict[str, Any]]) -> str:
        return {True: "✓", False: "✗", None: "–"}[self.met(results)]


def _number(value: float) -> str:
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


TARGETS: tuple[Target, ...] = (
    Target("gas", "castVote_first_ratio", "castVote, first vote, × OpenZeppelin", 0.60),
    Target("gas", "castVote_later_ratio", "castVote, later vote, × OpenZeppelin", 0.60),
    Target("gas", "castVoteBySig_ratio", "castVoteBySig × OpenZeppelin", 0.55),
    Target("gas", "propose_ratio", "propose × OpenZeppelin", 1.0),
    Target("gas", "execute_ratio", "execute × OpenZeppelin", 1.0),
    Target("gas", "gas_growth_ratio", "gas with 200 members ÷ with 5", 1.05),
    Target("ingest", "ingest_vs_verify_ratio", "posts ingested ÷ raw ed25519 verifications", 0.9, at_most=False),
    Target("sync", "full_sync_s", "full sync of 100,000 posts", 8, unit=" s"),
    Target("sync", "full_sync_bytes_ratio", "bytes exchanged ÷ the posts' bytes", 1.02),
    Target("sync", "resync_bytes_vs_full_ratio", "re-sync, newest 1 % missing, bytes ÷ full", 0.02),
    Target("sync", "resync_holes_bytes_vs_full_ratio", "re-sync, 1 % missing at random, bytes ÷ full", 0.05),
    Target("sync", "sync_vs_verify_ratio", "posts synced ÷ verifications on two threads", 0.6, at_most=False),
    Target("memory", "rss_growth_mb", "RSS growth, empty store → 100,000 posts", 15, unit=" MB"),
    Target("memory", "rss_peak_mb", "RSS peak while serving a full sync", 150, unit=" MB"),
    Target("watcher", "catch_up_s", "chain watcher catching up on 10,000 events", 10, unit=" s"),
    Target("ranking", "worst_after_reaction_ms", "ranked feed or opinion map after a new reaction", 1000, unit=" ms"),
    Target("ranking", "worst_warm_ms", "ranked page from the cache", 100, unit=" ms"),
    Target("gossip", "cpu_per_msg_vs_js_ratio", "CPU per message ÷ js-libp2p, 20 posts/s", 1.5),
    Target("gossip", "delivery_ratio", "delivery at 50 posts/s", 1.0, at_most=False),
    Target("gossip", "p99_ms", "p99 latency at 50 posts/s", 250, unit=" ms"),
    Target("gossip", "p99_vs_js_ratio", "p99 ÷ js-libp2p at 50 posts/s", 2),
)


def report_lines(bench: str, results: dict[str, dict[str, Any]]) -> list[str]:
    """The report's lines for ``bench``'s targets: figure, mark, target."""
    return [
        f"- {t.label}: {t.measured(results)} {t.mark(results)} (target {t.wanted()})"
        for t in TARGETS
        if t.bench == bench
    ]


def readme_table(results: dict[str, dict[str, Any]]) -> str:
    """The README's performance table, between its markers."""
    rows = [
        "| benchmark | figure | measured | target | run |",
        "|---|---|---|---|---|",
    ]
    for t in TARGETS:
        ran = results.get(t.bench, {}).get("ran_at", "–")
        rows.append(f"| `{t.script}` | {t.label} | {t.measured(results)} | {t.wanted()} {t.mark(results)} | {ran} |")
    return "\n".join([START, *rows, END])


def with_table(readme: str, results: dict[str, dict[str, Any]]) -> str:
    """``readme`` with its performance table replaced by the one ``results`` give."""
    head, found, rest = readme.partition(START)
    if not found or END not in rest:
        raise ValueError(f"the README has no performance table between {START} and {END}")
    return head + readme_table(results) + rest.split(END, 1)[1]
