"""The benchmark targets and the README's performance table: a figure is judged against the
right side of its target, an unmeasured one is said to be so, and the README's table is exactly
the one the committed report's figures render (so nobody types a figure into it by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchreport.targets import END, START, TARGETS, Target, readme_table, with_table

ROOT = Path(__file__).resolve().parents[3]


def test_a_figure_is_judged_against_its_own_side_of_the_target() -> None:
    ceiling = Target("sync", "full_sync_s", "full sync", 8, unit=" s")
    floor = Target("ingest", "ingest_vs_verify_ratio", "ingest", 0.9, at_most=False)
    assert ceiling.met({"sync": {"full_sync_s": 7.9}}) is True
    assert ceiling.met({"sync": {"full_sync_s": 8.1}}) is False
    assert floor.met({"ingest": {"ingest_vs_verify_ratio": 0.95}}) is True
    assert floor.met({"ingest": {"ingest_vs_verify_ratio": 0.61}}) is False
    assert ceiling.met({"sync": {}}) is None
    assert ceiling.measured({"sync": {"full_sync_s": None}}) == "not measured"
    assert (ceiling.wanted(), floor.wanted()) == ("≤ 8 s", "≥ 0.9")


def test_every_target_names_a_benchmark_the_report_runs() -> None:
    report = (ROOT / "scripts" / "bench_report.py").read_text()
    for target in TARGETS:
        assert f'"{target.script}"' in report, target
        assert (ROOT / "scripts" / target.script).exists(), target.script


def test_the_readme_table_is_the_one_the_committed_figures_render() -> None:
    figures = json.loads((ROOT / "scripts" / "report" / "figures.json").read_text())
    readme = (ROOT / "README.md").read_text()
    shown = START + readme.split(START, 1)[1].split(END, 1)[0] + END
    assert shown == readme_table(figures), "run scripts/bench_report.py to render the README's table again"


def test_a_readme_without_the_markers_is_refused_with_what_is_missing() -> None:
    with pytest.raises(ValueError, match="no performance table between"):
        with_table("# kiez\n", {})
    replaced = with_table(f"a\n{START}\nold\n{END}\nb\n", {"gas": {"propose_ratio": 0.85, "ran_at": "then"}})
    assert "old" not in replaced
    assert "| `bench_gas.py` | propose × OpenZeppelin | 0.85 | ≤ 1 ✓ | then |" in replaced


def test_the_cpu_plot_draws_both_networks_and_nothing_without_figures(tmp_path: Path) -> None:
    from bench_report import plot_cpu

    gossip = {"cpu_ms_per_msg_by_rate": {"10": 80.0, "20": 85.5}, "js_cpu_ms_per_msg_by_rate": {"20": 30.0}}
    assert plot_cpu(gossip, tmp_path) == "gossip-cpu.png"
    assert (tmp_path / "gossip-cpu.png").read_bytes().startswith(b"\x89PNG")
    assert plot_cpu({"cpu_ms_per_msg_by_rate": None}, tmp_path / "none") is None
