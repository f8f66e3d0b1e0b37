"""SIGKILL a node again and again while it ingests from every side, and check what survives.

The community (``start_crash_community``): a victim and two peers, each its own process, on one
chain. During the run (``KillLoop.run``):

- the victim's member posts through its API (``Poster``): every acknowledged post must survive;
- the peers' members post through theirs, which reaches the victim by gossip while it runs and by
  sync, after each restart, for what it missed while it was down;
- one peer started with a backlog it never gossiped, which only sync brings, across the kills;
- the chain moves (``ChainActivity``), sometimes while the victim runs, sometimes while it is down.

The victim is killed at random moments, mostly while it runs, sometimes while it starts up. While
it is down its database is read as the crash left it (``dbcheck``): intact; every post acknowledged
so far in it; the chain cursor neither behind the one read last time nor behind what the node
reported just before the kill; the view that of the chain at the cursor. After each restart the
posts acknowledged just before the kill are read back through the API. At the end every node
must hold every post (hidden ones aside) and the victim the chain's whole view.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.anvil import Anvil
from node.core.types import Message
from node.core.validation import parse
from node.errors import NodeError
from node.harness.activity import ChainActivity
from node.harness.dbcheck import ChainReplay, arrivals, read_disk
from node.harness.history import History, found_history
from node.harness.process import NodeProcess, peer_addr, wait_until

#: A peer's post that reached the victim later than this after its signing came by sync (gossip
#: on loopback takes milliseconds; sync waits for a restart or the next sync round).
_GOSSIP_WITHIN_MS = 1000


@dataclass
class Poster:
    """Posts through one node's API at a steady rate, in a thread, whether the node is up or
    not; ``acked`` holds the ids the API acknowledged."""

    node: NodeProcess
    label: str
    rate: float
    acked: list[str] = field(default_factory=list)
    failure: Exception | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"poster-{self.label}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def check(self) -> None:
        """Raises what made the thread stop early, if anything did."""
        if self.failure is not None:
            raise NodeError(f"posting through {self.label} stopped: {self.failure!r}") from self.failure

    def _run(self) -> None:
        try:
            self._post_until_stopped()
        except Exception as exc:  # handed to the main thread by check()
            self.failure = exc

    def _post_until_stopped(self) -> None:
        api, n, due = self.node.api, 0, time.monotonic()
        while not self._stop.is_set():
            try:
                self.acked.append(str(api.post("/v1/posts", {"text": f"{self.label} #{n}"})["id"]))
                n += 1
            except NodeError:
                pass  # down, starting up, or refusing for now: the next one is due soon
            except http.client.HTTPException:
                pass  # killed while it answered (the API client does not wrap this): not acknowledged
            due = max(due + 1 / self.rate, time.monotonic())
            self._stop.wait(due - time.monotonic())


@dataclass
class CrashCommunity:
    """The victim and its two peers (``peers[1]`` started with ``backlog``, ids in hex)."""

    history: History
    victim: NodeProcess
    peers: list[NodeProcess]
    backlog: frozenset[str]

    @property
    def nodes(self) -> list[NodeProcess]:
        return [self.victim, *self.peers]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_crash_community(anvil: Anvil, root: Path, backlog: int, sync_interval: float = 5.0) -> CrashCommunity:
    """Founds a community of three on ``anvil`` (homes under ``root``), fills the second peer
    with ``backlog`` posts of its own member, starts the peers, then the victim, which dials both;
    returns once they form a mesh with active keys."""
    history = found_history(anvil, root, ["victim", "peer1", "peer2"], poll_interval=0.2)
    posts = history.posts(backlog, authors=["peer2"])
    history.fill("peer2", posts)
    homes = history.homes
    dials = {"victim": ("peer1", "peer2"), "peer1": ("peer2",), "peer2": ()}
    nodes = {}
    for name, home in homes.items():
        config = home.with_changes(
            bootstrap=tuple(peer_addr(homes[d]) for d in dials[name]), sync_interval=sync_interval
        )
        config.save()
        nodes[name] = NodeProcess(config)
    ids = frozenset(m.id.hex() for m in map(parse, posts) if isinstance(m, Message))
    net = CrashCommunity(history, nodes["victim"], [nodes["peer1"], nodes["peer2"]], ids)
    try:
        for node in net.peers:
            node.launch()
        for node in net.peers:
            node.wait_ready()
        net.victim.start()
        for node in net.nodes:
            wait_until(lambda n=node: n.api.get("/v1/status")["mesh_peers"] >= 1, 60, f"{node.name} in the mesh")
            wait_until(lambda n=node: n.api.get("/v1/status")["app_key_active"], 60, f"{node.name}'s active key")
    except BaseException:
        net.stop()
        raise
    return net


@dataclass(frozen=True)
class KillPlan:
    """How often, how and when the victim is killed, and what it ingests meanwhile."""

    kills: int = 100
    #: The victim runs up to this long (uniformly drawn) before it is killed.
    max_up_s: float = 3.0
    #: The share of kills that hit the victim while it starts up rather than while it runs
    #: (spread evenly over the run).
    starting_share: float = 0.15
    #: A governance decision every this many cycles (0: none).
    chain_every: int = 1
    victim_rate: float = 8.0  # posts a second through the victim's API (the rate limit is 10)
    peer_rate: float = 3.0  # posts a second through each peer's API
    seed: int = 2026
    converge_timeout_s: float = 180.0


@dataclass
class Figures:
    """What a run measured; ``lost``, the failures, the mismatches and ``unconverged`` must be 0."""

    kills: int = 0
    kills_while_starting: int = 0
    acknowledged_posts: int = 0
    peer_posts: int = 0
    backlog_posts: int = 0
    lost: int = 0
    integrity_failures: int = 0
    cursor_regressions: int = 0
    view_mismatches: int = 0
    chain_actions: dict[str, int] = field(default_factory=dict)  # governance decisions, by kind
    disk_checks: int = 0
    #: How the posts in the victim's database at the end came: its member's through its API; the
    #: backlog, and peers' posts that arrived over a second after they were signed, by sync; the
    #: rest of the peers' posts by gossip.
    ingested_via_api: int = 0
    ingested_via_gossip: int = 0
    ingested_via_sync: int = 0
    unconverged: int = 0
    final_cursor: int = -1
    head: int = -1
    mean_restart_to_ready_s: float = 0.0
    max_restart_to_ready_s: float = 0.0
    total_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class KillLoop:
    """Runs a ``KillPlan`` against a ``CrashCommunity``; ``say`` receives one line per event."""

    def __init__(self, net: CrashCommunity, plan: KillPlan, say: Callable[[str], None] = lambda line: None) -> None:
        self.net, self.plan, self.say = net, plan, say
        self.rng = random.Random(plan.seed)  # noqa: S311 - crash timing, not cryptography
        self.figures = Figures(backlog_posts=len(net.backlog))
        self.chain = ChainActivity(net.history.dev)
        self.replay = ChainReplay(net.history.dev.client())
        self.posters = [Poster(net.victim, "victim", plan.victim_rate)] + [
            Poster(peer, peer.name, plan.peer_rate) for peer in net.peers
        ]
        self.lost: set[str] = set()
        self.ready_s: list[float] = []
        self._cursor = -1  # the highest cursor read on disk so far
        self._checked = 0  # victim posts acknowledged before the last check

    def run(self) -> Figures:
        started = time.monotonic()
        for poster in self.posters:
            poster.start()
        try:
            cycle = 0
            while self.figures.kills < self.plan.kills:
                self._run_and_kill(cycle)
                if self.figures.kills < self.plan.kills and self._starting_turn(self.figures.kills + 1):
                    self._kill_while_starting()
                self._restart()
                cycle += 1
        finally:
            for poster in self.posters:
                poster.stop()
        for poster in self.posters:
            poster.check()
        self._converge()
        figures = self.figures
        figures.acknowledged_posts = len(self.posters[0].acked)
        figures.peer_posts = sum(len(p.acked) for p in self.posters[1:])
        figures.lost = len(self.lost)
        figures.chain_actions = dict(self.chain.done)
        figures.mean_restart_to_ready_s = round(sum(self.ready_s) / max(1, len(self.ready_s)), 3)
        figures.max_restart_to_ready_s = round(max(self.ready_s, default=0.0), 3)
        figures.total_s = round(time.monotonic() - started, 1)
        return figures

    def _starting_turn(self, kill: int) -> bool:
        """Whether kill number ``kill`` hits the start-up: spread evenly, ``starting_share`` of
        them (the moment within the start-up is random)."""
        share = self.plan.starting_share
        return int(kill * share) > int((kill - 1) * share)

    def _run_and_kill(self, cycle: int) -> None:
        up = self.rng.uniform(0.05, self.plan.max_up_s)
        deadline = time.monotonic() + up
        act = self.plan.chain_every > 0 and cycle % self.plan.chain_every == 0
        act_while_up = act and self.rng.random() < 0.5
        if act_while_up:
            time.sleep(self.rng.uniform(0, up))
            self._act("while up")
        time.sleep(max(0.0, deadline - time.monotonic()))
        reported = self._reported_cursor()
        self.net.victim.kill()
        self.figures.kills += 1
        self._check_disk(f"kill {self.figures.kills} after {up:.2f} s up", reported)
        if act and not act_while_up:
            self._act("while down")

    def _kill_while_starting(self) -> None:
        victim = self.net.victim
        victim.launch()
        wait = self.rng.uniform(0, sum(self.ready_s) / len(self.ready_s) if self.ready_s else 1.0)
        time.sleep(wait)
        victim.kill()
        self.figures.kills += 1
        self.figures.kills_while_starting += 1
        self._check_disk(f"kill {self.figures.kills} {wait:.2f} s into start-up", None)

    def _restart(self) -> None:
        victim, started = self.net.victim, time.monotonic()
        victim.start(timeout=120)
        self.ready_s.append(time.monotonic() - started)
        acked = self.posters[0].acked
        recent = acked[max(0, self._checked - 5) : self._checked]  # the last ones before the kill
        unserved = [p for p in recent if not victim.has_post(p)]
        if unserved:
            self.lost.update(unserved)
            self.say(f"  LOST: {len(unserved)} acknowledged posts not served after the restart")
        self.say(f"  ready in {self.ready_s[-1]:.2f} s")

    def _act(self, when: str) -> None:
        peers_posts = [p for poster in self.posters[1:] for p in poster.acked[-50:]]
        self.say(f"  chain ({when}): {self.chain.step(self.rng, peers_posts)}")

    def _reported_cursor(self) -> int | None:
        """The cursor the victim says it applied (it writes it before saying so), if it answers."""
        try:
            cursor = self.net.victim.api.get("/v1/status")["chain"]["cursor"]
        except NodeError:
            return None
        return None if cursor is None else int(cursor)

    def _check_disk(self, label: str, reported: int | None) -> None:
        acked = list(self.posters[0].acked)  # everything acknowledged before the kill, and maybe a few after
        disk = read_disk(self.net.victim.config.db_path)
        self.figures.disk_checks += 1
        problems = []
        if disk.integrity != "ok":
            self.figures.integrity_failures += 1
            problems.append(f"integrity: {disk.integrity}")
        missing = [p for p in acked if p not in disk.ids]
        if missing:
            self.lost.update(missing)
            problems.append(f"LOST {len(missing)} acknowledged posts")
        cursor = -1 if disk.cursor is None else disk.cursor
        if cursor < self._cursor or (reported is not None and cursor < reported):
            self.figures.cursor_regressions += 1
            problems.append(f"cursor {cursor} on disk, read {self._cursor} before, reported {reported}")
        self._cursor = max(self._cursor, cursor)
        differences = disk.view.differences(self.replay.view_at(disk.cursor))
        if differences:
            self.figures.view_mismatches += 1
            problems.append("view " + "; ".join(differences))
        self._checked = len(acked)
        self.say(
            f"{label}: {len(disk.ids)} messages, {len(acked)} acknowledged, cursor {cursor}"
            + "".join(f"\n  {p}" for p in problems)
        )

    def _converge(self) -> None:
        """Waits for every node to hold every post (hidden ones aside) and the victim the chain's
        head, then stops them and reads each database."""
        hidden = self.chain.hidden
        expected = (set(self.net.backlog) | {p for poster in self.posters for p in poster.acked}) - hidden
        head = self.replay.client.head()
        self.figures.head = head

        def converged() -> bool:
            for node in self.net.nodes:
                status = node.api.get("/v1/status")
                if status["store"]["post"] - status["store"]["hidden"] < len(expected):
                    return False
            return bool((self.net.victim.api.get("/v1/status")["chain"]["cursor"] or -1) >= head)

        self.say(f"converging: {len(expected)} posts on every node, cursor {head} on the victim")
        try:
            wait_until(converged, self.plan.converge_timeout_s, "every node to converge", 1.0)
        except NodeError as exc:
            self.say(str(exc))
        self.net.stop()
        for node in self.net.nodes:
            disk = read_disk(node.config.db_path)
            missing = expected - disk.ids
            self.figures.unconverged += len(missing)
            if node is self.net.victim:
                self._count_paths(node)
                self.lost.update(set(self.posters[0].acked) - disk.ids)
                self.figures.final_cursor = -1 if disk.cursor is None else disk.cursor
                differences = disk.view.differences(self.replay.view_at(head))
                if disk.cursor != head or differences:
                    self.figures.view_mismatches += 1
                    self.say(f"the victim's final view: cursor {disk.cursor}; " + "; ".join(differences))
            self.say(f"{node.name}: {len(disk.ids)} messages, {len(missing)} of the expected posts missing")

    def _count_paths(self, victim: NodeProcess) -> None:
        own = self.net.history.dev.founders[0].address.lower()  # the victim is the first founder
        for post_id, arrival in arrivals(victim.config.db_path).items():
            if arrival.author == own:
                self.figures.ingested_via_api += 1
            elif post_id in self.net.backlog or arrival.delay_ms > _GOSSIP_WITHIN_MS:
                self.figures.ingested_via_sync += 1
            else:
                self.figures.ingested_via_gossip += 1
