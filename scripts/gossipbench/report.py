"""The benchmark's figures (the last line's JSON object, without its machine figures) and the
summary it prints."""

from __future__ import annotations

import argparse
from typing import Any

from gossipbench.common import MESSAGE_BYTES, say
from gossipbench.figures import HIST_BUCKET_MS, HIST_LIMIT_MS, P99_TARGET_MS, Run, histogram

# The rate CPU per message is compared at: below both networks' saturation, where a message's cost
# is its own and not a backlog's.
CPU_COMPARE_RATE = 20.0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _cpu_at(run: Run | None, rate: float) -> float | None:
    step = run.at(rate) if run else None
    return step.cpu_ms_per_msg if step else None


def report(
    runs: dict[str, Run],
    args: argparse.Namespace,
    text_length: int,
    degrees: list[int],
    netns_note: str,
    runtime: float,
) -> dict[str, Any]:
    head = args.headline_rate
    figures: dict[str, Any] = {
        "nodes": args.nodes,
        "dials_per_node": args.dials,
        "topology_seed": args.seed,
        "peers_per_node": degrees,
        "message_bytes": MESSAGE_BYTES,
        "post_text_chars": text_length,
        "headline_rate": head,
        "headline_duration_s": args.duration,
        "sweep_duration_s": args.sweep_duration,
        "warmup_s": args.warmup,
    }
    for prefix, py_label, js_label in (("", "py", "js"), ("netns_", "netns_py", "netns_js")):
        py, js = runs.get(py_label), runs.get(js_label)
        py_step = py.at(head) if py else None
        js_step = js.at(head) if js else None
        for kind, run, step in (("", py, py_step), ("js_", js, js_step)):
            figures[f"{prefix}{kind}delivery_ratio"] = round(step.delivery, 6) if step else None
            figures[f"{prefix}{kind}p50_ms"] = step.p(0.5) if step else None
            figures[f"{prefix}{kind}p99_ms"] = step.p(0.99) if step else None
            figures[f"{prefix}{kind}cores"] = round(step.cores, 3) if step else None
            figures[f"{prefix}{kind}max_lossless_rate"] = run.max_lossless() if run else None
            figures[f"{prefix}{kind}max_rate_p99_le_250ms"] = run.max_lossless(P99_TARGET_MS) if run else None
        py99 = py_step.p(0.99) if py_step else None
        js99 = js_step.p(0.99) if js_step else None
        figures[f"{prefix}p99_vs_js_ratio"] = round(py99 / js99, 3) if py99 is not None and js99 else None
        for kind, run in (("", py), ("js_", js)):
            # CPU per published message at every rate, network-wide: {rate: ms}.
            figures[f"{prefix}{kind}cpu_ms_per_msg_by_rate"] = (
                {f"{s.rate:g}": _rounded(s.cpu_ms_per_msg) for s in run.steps} if run else None
            )
        py_cpu = _cpu_at(py, CPU_COMPARE_RATE)
        js_cpu = _cpu_at(js, CPU_COMPARE_RATE)
        figures[f"{prefix}cpu_ms_per_msg"] = _rounded(py_cpu)
        figures[f"{prefix}js_cpu_ms_per_msg"] = _rounded(js_cpu)
        figures[f"{prefix}cpu_per_msg_vs_js_ratio"] = round(py_cpu / js_cpu, 3) if py_cpu and js_cpu else None
        figures[f"{prefix}sweep"] = py.sweep() if py else None
        figures[f"{prefix}js_sweep"] = js.sweep() if js else None
    figures["netns_impairment"] = netns_note
    py_head = runs["py"].at(head) if "py" in runs else None
    js_head = runs["js"].at(head) if "js" in runs else None
    for key, step in (("histogram", py_head), ("js_histogram", js_head)):
        figures[key] = (
            {"bucket_ms": HIST_BUCKET_MS, "limit_ms": HIST_LIMIT_MS, "counts": histogram(step.latencies)}
            if step
            else None
        )
    delivery_ok = figures["delivery_ratio"] == 1.0
    p99 = figures["p99_ms"]
    ratio = figures["p99_vs_js_ratio"]
    figures["targets"] = {
        "delivery_1_at_50": delivery_ok,
        "p99_le_250ms": p99 is not None and p99 <= P99_TARGET_MS,
        "p99_vs_js_le_2": ratio is not None and ratio <= 2,
    }
    figures["runtime_s"] = round(runtime, 1)

    say("")
    say(f"summary at {head:g} posts/s ({MESSAGE_BYTES} B messages, {args.nodes} nodes):")
    for prefix, name in (("", "loopback"), ("netns_", "namespaces, 25 ms ± 10 %, 1 % loss")):
        if figures[f"{prefix}delivery_ratio"] is None and figures[f"{prefix}js_delivery_ratio"] is None:
            continue
        f = {key.removeprefix(prefix): value for key, value in figures.items() if key.startswith(prefix)}
        say(
            f"  {name}: kiez delivery {f['delivery_ratio']}, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
            f"max lossless {f['max_lossless_rate']}/s (with p99 ≤ 250 ms {f['max_rate_p99_le_250ms']}/s) | "
            f"js delivery {f['js_delivery_ratio']}, p50 {f['js_p50_ms']} ms, p99 {f['js_p99_ms']} ms, "
            f"max lossless {f['js_max_lossless_rate']}/s (with p99 ≤ 250 ms {f['js_max_rate_p99_le_250ms']}/s) | "
            f"p99 kiez/js {f['p99_vs_js_ratio']} | CPU per message at {CPU_COMPARE_RATE:g}/s: kiez "
            f"{f['cpu_ms_per_msg']} ms, js {f['js_cpu_ms_per_msg']} ms, kiez/js {f['cpu_per_msg_vs_js_ratio']}"
        )
    targets = figures["targets"]
    say(
        "  targets: delivery 1.0 at 50/s {}, p99 ≤ 250 ms {}, p99 ≤ 2 × js {}".format(
            *("met" if targets[k] else "NOT met" for k in ("delivery_1_at_50", "p99_le_250ms", "p99_vs_js_le_2"))
        )
    )
    say(f"  total runtime {runtime:.0f} s")
    return figures
