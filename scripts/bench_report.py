#!/usr/bin/env python3
"""Runs every benchmark and writes one Markdown report with PNG plots.

Each benchmark is a script under ``scripts/`` whose last printed line is one JSON object; this
script runs them one after another (never side by side: they would measure each other), keeps
their figures in ``<out>/figures.json``, draws the plots (gossip latency distribution, CPU per message, delivery
and latency against the publishing rate) and writes ``<out>/report.md``, which the README links.

Usage: .venv/bin/python scripts/bench_report.py [--out scripts/report] [--only gas,ingest,...] [--quick]
       .venv/bin/python scripts/bench_report.py --only memory --update   (re-run one, keep the rest)
``--quick`` shrinks every benchmark (for trying the report, not for figures to quote). A full run
into the default folder also renders the README's performance table from the same figures
(``benchreport.targets``), so nothing in it is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
from benchreport.targets import report_lines, with_table

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: The report the README links; a run writing here (not --quick) also renders the README's table.
DEFAULT_OUT = ROOT / "scripts" / "report"

#: name -> (script, normal arguments, quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "gas": ("bench_gas.py", [], []),
    "ingest": ("bench_ingest.py", [], ["--messages", "5000", "--single", "500"]),
    "propagation": ("bench_propagation.py", [], ["--posts", "40"]),
    "sync": ("bench_sync.py", [], ["--posts", "10000"]),
    "memory": ("bench_memory.py", [], ["--posts", "10000"]),
    "watcher": ("bench_watcher.py", [], ["--events", "1000"]),
    "ranking": ("bench_ranking.py", [], ["--posts", "2000", "--repeat", "1"]),
    "gossip": ("bench_gossip.py", [], ["--quick"]),
}


def run(name: str, quick: bool) -> dict[str, Any]:
    script, normal, short = BENCHMARKS[name]
    print(f"== {name}: scripts/{script} {' '.join(short if quick else normal)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    result = subprocess.run(
        [PYTHON, str(ROOT / "scripts" / script), *(short if quick else normal)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        tail = "\n".join(result.stderr.splitlines()[-15:])
        print(f"   failed (exit {result.returncode}):\n{tail}", file=sys.stderr)
        return {"error": f"exit {result.returncode}", "stderr_tail": tail, "seconds": round(seconds)}
    figures: dict[str, Any] = json.loads(lines[-1])
    figures["summary"] = lines[:-1]
    figures["seconds"] = round(seconds)
    figures["ran_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"   done in {seconds:.0f} s", file=sys.stderr)
    return figures


def save(fig: Any, path: Path) -> str:
    """Writes one plot and frees it; returns the file name the report links."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name


def plot_latency(gossip: dict[str, Any], out: Path) -> str | None:
    """Histogram of end-to-end latency at the headline rate, kiez beside js-libp2p."""
    wanted = (("kiez (py-libp2p)", "histogram"), ("js-libp2p", "js_histogram"))
    series: list[tuple[str, dict[str, Any]]] = [
        (label, h) for label, key in wanted if isinstance(h := gossip.get(key), dict) and h.get("counts")
    ]
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, hist in series:
        width = hist.get("bucket_ms", 5)
        counts = hist["counts"]
        ax.step([i * width for i in range(len(counts))], counts, where="post", label=label)
    ax.set_xlabel("end-to-end latency (ms)")
    ax.set_ylabel("deliveries")
    ax.set_title(f"Gossip latency at {gossip.get('headline_rate', 50)} posts/s on loopback")
    ax.legend()
    return save(fig, out / "gossip-latency.png")


def plot_sweep(gossip: dict[str, Any], out: Path) -> str | None:
    """Delivery ratio and p99 latency against the publishing rate."""
    wanted = (
        ("kiez", "sweep"),
        ("js-libp2p", "js_sweep"),
        ("kiez, namespaces", "netns_sweep"),
        ("js-libp2p, namespaces", "netns_js_sweep"),
    )
    sweeps: list[tuple[str, list[dict[str, Any]]]] = [
        (label, steps) for label, key in wanted if isinstance(steps := gossip.get(key), list) and steps
    ]
    if not sweeps:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for label, sweep in sweeps:
        rates = [step["rate"] for step in sweep]
        left.plot(rates, [step["delivery"] for step in sweep], marker="o", label=label)
        right.plot(rates, [step["p99"] or float("nan") for step in sweep], marker="o", label=label)
    left.set_xlabel("posts/s, network-wide")
    left.set_ylabel("delivery ratio")
    right.set_xlabel("posts/s, network-wide")
    right.set_ylabel("p99 latency (ms)")
    right.set_yscale("log")
    left.legend()
    return save(fig, out / "gossip-sweep.png")


def plot_cpu(gossip: dict[str, Any], out: Path) -> str | None:
    """CPU per published message (network-wide) against the publishing rate, both networks."""
    wanted = (
        ("kiez", "cpu_ms_per_msg_by_rate"),
        ("js-libp2p", "js_cpu_ms_per_msg_by_rate"),
        ("kiez, namespaces", "netns_cpu_ms_per_msg_by_rate"),
        ("js-libp2p, namespaces", "netns_js_cpu_ms_per_msg_by_rate"),
    )
    series = [(label, by_rate) for label, key in wanted if isinstance(by_rate := gossip.get(key), dict) and by_rate]
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, by_rate in series:
        points = sorted((float(rate), ms) for rate, ms in by_rate.items() if ms is not None)
        ax.plot([r for r, _ in points], [ms for _, ms in points], marker="o", label=label)
    ax.set_xlabel("posts/s, network-wide")
    ax.set_ylabel("CPU ms per message, all nodes")
    ax.set_ylim(bottom=0)
    ax.legend()
    return save(fig, out / "gossip-cpu.png")


def section(title: str, figures: dict[str, Any], body: Callable[[dict[str, Any]], list[str]]) -> list[str]:
    lines = [f"## {title}", ""]
    if "error" in figures:
        return [*lines, f"Did not complete ({figures['error']}):", "", "```", figures.get("stderr_tail", ""), "```", ""]
    lines += body(figures)
    ran_at = f", run at {figures['ran_at']}" if figures.get("ran_at") else ""
    lines += ["", "```", *figures.get("summary", []), "```", f"({figures['seconds']} s{ran_at})", ""]
    return lines


def report(results: dict[str, dict[str, Any]], plots: list[str], quick: bool) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# kiez benchmark report",
        "",
        f"Generated {when} by `scripts/bench_report.py`{' --quick (shrunk runs: not for quoting)' if quick else ''}.",
        "Every figure comes from one run on this machine (2 cores, shared); benchmarks ran one at a time,"
        " and each section says when it ran.",
        "",
    ]
    details: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
        "gas": ("Gas (bench_gas.py)", lambda f: []),
        "ingest": (
            "Ingest (bench_ingest.py)",
            lambda f: [f"- ingest {f['ingest_per_s']:,}/s, raw verify {f['verify_per_s']:,}/s"],
        ),
        "propagation": (
            "Propagation in a 3-node devnet (bench_propagation.py)",
            lambda f: [f"- median {f['median_ms']} ms, p90 {f['p90_ms']} ms, worst {f['worst_ms']} ms"],
        ),
        "sync": ("Sync (bench_sync.py)", lambda f: []),
        "memory": (
            "Memory (bench_memory.py)",
            lambda f: [
                f"- RSS with {f['posts']:,} posts: idle {f['rss_idle_mb']} MB, after reading the feed "
                f"{f['rss_after_feed_mb']} MB"
            ],
        ),
        "watcher": ("Chain watcher (bench_watcher.py)", lambda f: []),
        "ranking": (
            "Ranked feeds and the opinion map (bench_ranking.py)",
            lambda f: [
                f"- {f['posts']:,} posts, {f['members']} members: bridging cold {f['bridging_cold_ms']} ms, "
                f"personal cold {f['personal_cold_ms']} ms, opinion map cold {f['opinions_cold_ms']} ms"
            ],
        ),
    }
    for name, (title, extra) in details.items():
        if name in results:
            targets = report_lines(name, results)
            lines += section(title, results[name], lambda f, t=targets, x=extra: [*t, *x(f)])  # type: ignore[misc]
    if "gossip" in results:
        lines += section(
            "Gossip, 10 nodes, beside js-libp2p (bench_gossip.py)",
            results["gossip"],
            lambda f: [*report_lines("gossip", results), *_gossip_lines(f)],
        )
    for plot in plots:
        lines += [f"![{plot}]({plot})", ""]
    return "\n".join(lines) + "\n"


def _gossip_lines(f: dict[str, Any]) -> list[str]:
    def get(key: str) -> Any:
        value = f.get(key)
        return "n/a" if value is None else value

    out = [
        f"- loopback, {get('headline_rate')} posts/s: delivery {get('delivery_ratio')}, "
        f"p50 {get('p50_ms')} ms, p99 {get('p99_ms')} ms, {get('cores')} cores",
        f"- js-libp2p, same topology and rate: delivery {get('js_delivery_ratio')}, p50 {get('js_p50_ms')} ms, "
        f"p99 {get('js_p99_ms')} ms, {get('js_cores')} cores; "
        f"p99 kiez/js {get('p99_vs_js_ratio')}",
        f"- highest lossless rate: kiez {get('max_lossless_rate')} posts/s, js {get('js_max_lossless_rate')} posts/s; "
        f"highest with p99 ≤ 250 ms too: kiez {get('max_rate_p99_le_250ms')}, js {get('js_max_rate_p99_le_250ms')}",
    ]
    if f.get("netns_delivery_ratio") is not None or f.get("netns_js_delivery_ratio") is not None:
        out.append(
            f"- network namespaces, 25 ms ± 10 % delay and 1 % loss: kiez delivery {get('netns_delivery_ratio')}, "
            f"p50 {get('netns_p50_ms')} ms, p99 {get('netns_p99_ms')} ms; "
            f"js delivery {get('netns_js_delivery_ratio')}, p50 {get('netns_js_p50_ms')} ms, "
            f"p99 {get('netns_js_p99_ms')} ms; p99 kiez/js {get('netns_p99_vs_js_ratio')}"
        )
    if f.get("netns_impairment"):
        out.append(f"- network namespaces: {f['netns_impairment']}")
    if f.get("load_average_start"):
        out.append(
            f"- machine load average (1, 5, 15 min) at the start {get('load_average_start')}, "
            f"at the end {get('load_average_end')}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--update",
        action="store_true",
        help="with --only: keep the other benchmarks' figures from the previous figures.json",
    )
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    fresh = {name: run(name, args.quick) for name in names}
    previous: dict[str, Any] = {}
    if args.update and (args.out / "figures.json").exists():
        previous = json.loads((args.out / "figures.json").read_text())
    results: dict[str, dict[str, Any]] = {}
    for name in BENCHMARKS:
        found = fresh.get(name) or previous.get(name)
        if isinstance(found, dict):
            results[name] = found
    (args.out / "figures.json").write_text(json.dumps(results, indent=1) + "\n")
    plots = []
    gossip = results.get("gossip", {})
    for draw in (plot_latency, plot_sweep, plot_cpu):
        drawn = draw(gossip, args.out)
        if drawn:
            plots.append(drawn)
    (args.out / "report.md").write_text(report(results, plots, args.quick))
    if not args.quick and args.out == DEFAULT_OUT:
        readme = ROOT / "README.md"
        readme.write_text(with_table(readme.read_text(), results))
        print(f"updated the performance table in {readme}")
    print(f"wrote {args.out / 'report.md'} ({len(plots)} plots)")
    failed = [n for n, r in results.items() if "error" in r]
    print(json.dumps({"report": str(args.out / "report.md"), "failed": failed}))


if __name__ == "__main__":
    main()
