"""SIGKILL at random moments while a node ingests through its API, by gossip and by sync, and the
chain moves: nothing acknowledged is lost, the database stays intact, the chain cursor never goes
back and the view is the chain's at the cursor, after every kill; in the end everything converges.

The same kill loop as ``scripts/bench_kill.py`` (``node.harness.crashloop``), with fewer kills.
"""

from __future__ import annotations

import logging
from pathlib import Path

from governance.anvil import Anvil
from node.harness.activity import KINDS
from node.harness.crashloop import KillLoop, KillPlan, start_crash_community

log = logging.getLogger(__name__)


def test_sigkill_while_ingesting_loses_nothing_and_keeps_cursor_and_view(anvil: Anvil, tmp_path: Path) -> None:
    net = start_crash_community(anvil, tmp_path, backlog=3000)
    plan = KillPlan(kills=8, max_up_s=2.0, starting_share=0.25, seed=2026)
    try:
        figures = KillLoop(net, plan, log.info).run()
    except Exception:
        for node in net.nodes:
            log.error("--- %s's log ---\n%s", node.name, node.log_tail(25))
        raise
    finally:
        net.stop()
    assert (figures.kills, figures.kills_while_starting, figures.disk_checks) == (8, 2, 8)
    assert figures.acknowledged_posts > 0, "the victim's API acknowledged nothing"
    assert figures.peer_posts > 0, "the peers' APIs acknowledged nothing"
    assert set(figures.chain_actions) == set(KINDS), "some kind of chain decision was never made"
    assert figures.lost == 0, f"{figures.lost} acknowledged posts lost"
    assert figures.integrity_failures == 0
    assert figures.cursor_regressions == 0
    assert figures.view_mismatches == 0
    assert figures.unconverged == 0, f"{figures.unconverged} posts missing after the run"
    assert figures.final_cursor == figures.head
