"""The devnet's story: founders post, a post is hidden by vote, a newcomer joins by invite with
no ether and is voted in with a relayed signed ballot, a private room, an opinion poll, members
taking sides and a bridging feed with its reasons, and a member removed and locked out.
Every step is a real transaction or a real gossiped message; ``summary`` reads the outcome back
from the nodes and the chain."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from governance.accounts import create_keystore, dev_account
from governance.anvil import Anvil
from governance.client import CommunityClient, deploy_community
from governance.present import describe_rules, proposals_table, table
from governance.types import Rules, Support
from node.errors import ApiError, NodeError
from node.harness.joining import admit_by_invite
from node.harness.natlab import NatLab
from node.harness.natnet import lab_config
from node.harness.onboarding import PASSWORD
from node.harness.presenting import Narrator, agree_on_charter, catch_up, converse, introduce
from node.harness.process import (
    NodeProcess,
    app_key_of,
    kill_strays,
    peer_addr,
    prepare_home,
    until_accepted,
    wait_until,
)
from node.harness.ranking import rank_and_map

NAMES = ["alice", "bob", "carol", "dana", "emil", "fatma", "goran", "hana", "ines"]
DEVNET_RULES = Rules(quorum_pct=50, threshold_pct=50, voting_period=3600)
POSTS = [
    "Repair café on Thursday, 18:00 at the corner shop. Bring your broken lamps!",
    "FREE BIKES!!! click here → totally-not-a-scam.example",
    "Who has a ladder to lend for Saturday?",
    "The community garden needs two more hands on Sunday.",
    "Found a grey cat near the canal, very friendly.",
    "Board games night moves to Friday.",
    "Anyone up for a bread-baking swap?",
    "The bakery on the corner closes early today.",
]
WAIT = 60.0


@dataclass
class Devnet:
    anvil: Anvil
    founders: int
    root: Path
    say: Narrator = field(default_factory=Narrator)
    c: dict[str, CommunityClient] = field(default_factory=dict)
    accounts: dict[str, LocalAccount] = field(default_factory=dict)
    nodes: dict[str, NodeProcess] = field(default_factory=dict)
    base: CommunityClient | None = None
    posts: dict[str, str] = field(default_factory=dict)  # author -> post id
    room: str = ""  # the organisers' private room, once opened
    poll: str = ""  # bob's poll, once asked
    #: With a NAT lab (``kiez devnet --netns``), the first founder's node runs on its public host
    #: and every other member's behind a home NAT of its own, dialling only the public one.
    lab: NatLab | None = None
    #: When the story began (ms): the closing digest covers what happened since.
    began_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def names(self) -> list[str]:
        return NAMES[: self.founders]

    @property
    def newcomer(self) -> str:
        return NAMES[self.founders]

    @property
    def client(self) -> CommunityClient:
        assert self.base is not None
        return self.base

    def run(self) -> None:
        self.found()
        self.start_nodes(self.names)
        self.say.step("Each member sets a profile; every node shows their names instead of addresses")
        introduce(self, self.names)
        self.everyone_posts()
        converse(self)
        self.hide_a_post()
        agree_on_charter(self)
        self.admit_newcomer()
        self.private_room()
        self.opinion_poll()
        rank_and_map(self, self.poll)
        self.remove_member()

    # ------------------------------------------------------------------ steps

    def found(self) -> None:
        self.say.step(f"Founding the community with {', '.join(self.names)}")
        for index, name in enumerate([*self.names, self.newcomer]):
            self.accounts[name] = dev_account(index)
        self.base = deploy_community(
            self.anvil.web3(),
            dev_account(9),
            "Kiez am Kanal",
            [self.accounts[n].address for n in self.names],
            rules=DEVNET_RULES,
            charter_hash=keccak(text="Be kind. Share tools. Decide together."),
        )
        self.c = {name: self.client.with_account(acct) for name, acct in self.accounts.items()}
        click.echo(f"   contract {self.client.address} on chain {self.client.chain_id} ({self.anvil.rpc_url})")
        click.echo(f"   rules: {describe_rules(DEVNET_RULES)}")
        for name in self.names:
            click.echo(f"   {name:<6} {self.accounts[name].address}")

    def start_nodes(self, names: list[str]) -> None:
        if len(names) > 1:
            self.say.step(f"{', '.join(n.title() for n in names)} each authorise an app key and start a node")
        configs = {
            name: prepare_home(
                self.root / name,
                rpc_url=self.anvil.rpc_url,
                community=self.client.address,
                chain_id=self.client.chain_id,
                name=name,
            )
            for name in names
        }
        if self.lab is not None:
            configs = {name: lab_config(self.lab, self.spot(name), config) for name, config in configs.items()}
        every_peer = tuple(peer_addr(n.config) for n in self.nodes.values()) + tuple(
            peer_addr(c) for c in configs.values()
        )
        for name, config in configs.items():
            # the member's account in an encrypted keystore, as `kiez init` makes it: the web app
            # signs votes with it (the devnet's summary prints the passphrase)
            create_keystore(config.keystore_path, PASSWORD, bytes(self.accounts[name].key))
            result = self.c[name].add_key(app_key_of(config))
            self.say.did(name, f"authorised app key 0x{app_key_of(config).hex()[:16]}…", result, "addKey")
            connected = config.with_changes(bootstrap=self._bootstrap(name, every_peer))
            connected.save()
            namespace = None if self.lab is None else self.lab.thread(self.spot(name))
            self.nodes[name] = NodeProcess(connected, namespace=namespace).start()
            ready = self.nodes[name].ready
            where = "" if self.lab is None else f" in namespace {self.spot(name)} ({connected.p2p_host})"
            self.say.did(name, f"node up{where}: peer {ready['peer_id'][:16]}…, API 127.0.0.1:{ready['api_port']}")
        expected = len(self.nodes) - 1
        wait_until(
            lambda: all(node.api.get("/v1/status")["mesh_peers"] >= min(expected, 1) for node in self.nodes.values()),
            WAIT,
            "the nodes to form a mesh",
        )
        wait_until(
            lambda: all(node.api.get("/v1/status")["app_key_active"] for node in self.nodes.values()),
            WAIT,
            "every node to see its app key on-chain",
        )
        peers = ", ".join(f"{n} {node.api.get('/v1/status')['peers']}" for n, node in self.nodes.items())
        click.echo(f"   connected peers: {peers}")

    def everyone_posts(self) -> None:
        self.say.step("Every member posts; gossip carries each post to every node")
        for index, name in enumerate(self.names):
            started = time.monotonic()
            result = self.nodes[name].api.post("/v1/posts", {"text": POSTS[index % len(POSTS)]})
            self.posts[name] = result["id"]
            self._wait_everywhere(result["id"], present=True)
            took = (time.monotonic() - started) * 1000
            self.say.did(name, f"posted {result['id'][:12]}…  on all {len(self.nodes)} feeds within {took:.0f} ms")

    def hide_a_post(self) -> None:
        spam = self.posts["bob"]
        self.say.step(f"Alice proposes to hide bob's post {spam[:12]}…; the others vote; it leaves every feed")
        c = self.c
        created, result = c["alice"].propose_hide_post(bytes.fromhex(spam), "spam link")
        self.say.did("alice", f"proposed #{created.number}: hide post {spam[:12]}…", result, "propose")
        self.say.did("alice", "voted for", c["alice"].cast_vote(created.proposal_id, Support.FOR), "castVote")
        self.say.did("carol", "voted for", c["carol"].cast_vote(created.proposal_id, Support.FOR), "castVote")
        self.say.did("carol", f"executed #{created.number}", c["carol"].execute(created), "execute")
        started = time.monotonic()
        self._wait_everywhere(spam, present=False)
        took = (time.monotonic() - started) * 1000
        self.say.did("", f"the post is gone from all {len(self.nodes)} feeds {took:.0f} ms after execution")

    def admit_newcomer(self) -> None:
        newcomer = self.newcomer
        self.say.step(
            f"{newcomer.title()} joins by invite with a new account that holds no ether: "
            "Alice's node pays, the members vote, she starts a node and posts"
        )
        node = self.nodes[newcomer] = admit_by_invite(self)
        where = "" if self.lab is None else f" in namespace {self.spot(newcomer)} ({node.config.p2p_host})"
        self.say.did(
            newcomer, f"node up{where}: peer {node.ready['peer_id'][:16]}…, API 127.0.0.1:{node.ready['api_port']}"
        )
        wait_until(lambda: self.nodes[newcomer].api.get("/v1/status")["app_key_active"], WAIT, "her key on her node")
        result_post = self.nodes[newcomer].api.post("/v1/posts", {"text": f"Hello neighbours, {newcomer} here!"})
        self.posts[newcomer] = result_post["id"]
        self._wait_everywhere(result_post["id"], present=True)
        self.say.did(newcomer, f"posted {result_post['id'][:12]}…; all {len(self.nodes)} nodes accepted it")
        introduce(self, [newcomer])

    def private_room(self) -> None:
        newcomer = self.newcomer
        self.say.step(
            f"Alice opens a private room for the organisers and invites bob and carol; {newcomer}'s node "
            "relays it but cannot read it"
        )
        alice = self.nodes["alice"].api
        body = {"name": "organisers", "topic": "street party planning", "visibility": "private"}
        room = str(until_accepted(lambda: alice.post("/v1/rooms", body), "alice's X25519 key to be known")["room"])
        self.room = room
        self.say.did("alice", f"created private room 'organisers' {room[:12]}…; its key is sealed to her X25519 key")
        newest = ""
        for name in ("bob", "carol"):
            invite = functools.partial(alice.post, f"/v1/rooms/{room}/invite", {"member": self.accounts[name].address})
            newest = str(until_accepted(invite, f"{name}'s X25519 key")["key"])
            self.say.did("alice", f"invited {name}: a fresh room key {newest[:12]}… sealed to each participant")
        for name in ("bob", "carol", newcomer):
            wait_until(lambda n=name: _room(self.nodes[n], room) is not None, WAIT, f"the room at {name}'s node")
            self.nodes[name].api.post(f"/v1/rooms/{room}/join", {})
        # Bob writes under the key his node holds: wait for the newest one, the only one sealed to carol too.
        wait_until(
            lambda: all(_holds(self.nodes[n], room, newest) for n in ("bob", "carol")),
            WAIT,
            "bob and carol to open the newest key",
        )
        text = "Budget for the street party: 300 euros, from the repair café's tips."
        post = self.nodes["bob"].api.post("/v1/posts", {"text": text, "room": room})["id"]
        self.say.did("bob", f"posted {post[:12]}… in the room: sealed with ChaCha20-Poly1305 under the room key")
        wait_until(
            lambda: all(_reads(self.nodes[n], room, text) for n in ("alice", "carol")), WAIT, "alice and carol to read"
        )
        self.say.did("", "alice and carol opened and read it")
        wait_until(lambda: self.nodes[newcomer].api.get("/v1/status")["store"]["sealed"] >= 1, WAIT, "the relay")
        readable = _readable(self.nodes[newcomer], room)
        seen = len(self.nodes[newcomer].api.get(f"/v1/feed?room={room}")["items"])
        self.say.did(newcomer, f"holds and relays the sealed post; can read the room: {readable}; posts shown: {seen}")
        if readable or seen:
            raise NodeError(f"{newcomer}'s node could read the private room")

    def opinion_poll(self) -> None:
        self.say.step("Bob asks in a poll (an opinion, not a binding vote); every node counts the same tally")
        bob = self.nodes["bob"].api
        closes = int(time.time() * 1000) + 600_000
        options = ["Saturday", "Sunday"]
        body = {"question": "Street party on which day?", "options": options, "closes_ms": closes}
        poll = self.poll = bob.post("/v1/polls", body)["id"]
        self.say.did("bob", f"asked poll {poll[:12]}…: Street party on which day? Saturday / Sunday, closes in 10 min")
        wait_until(lambda: all(_poll(n, poll) is not None for n in self.nodes.values()), WAIT, "the poll everywhere")
        for name, option in (("alice", 0), ("carol", 1), (self.newcomer, 0), ("carol", 0)):
            self.nodes[name].api.post(f"/v1/polls/{poll}/answer", {"option": option})
            self.say.did(name, f"answered {options[option]}")
        wait_until(
            lambda: all(_poll(n, poll) == [3, 0] for n in self.nodes.values()), WAIT, "the same tally on every node"
        )
        tallies = ", ".join(f"{n} {_poll(node, poll)}" for n, node in self.nodes.items())
        self.say.did("", f"tally on each node (carol's later answer replaced her first): {tallies}")

    def remove_member(self) -> None:
        gone = "carol"
        c = self.c
        self.say.step(f"The community removes {gone}; her next post is refused")
        removal, result = c["alice"].propose_remove_member(self.accounts[gone].address, "sold the shared ladder")
        self.say.did("alice", f"proposed #{removal.number}: remove-member {gone}", result, "propose")
        # Carol does not vote on her own removal; two for votes of the other three decide it early.
        for name in ("alice", "bob"):
            self.say.did(name, "voted for", c[name].cast_vote(removal.proposal_id, Support.FOR), "castVote")
        executed = c["bob"].execute(removal)
        self.say.did("bob", f"executed #{removal.number}", executed, "execute")
        self._wait_for_block(executed.block_number)
        try:
            self.nodes[gone].api.post("/v1/posts", {"text": "I'm still here!"})
        except ApiError as exc:
            self.say.refused(gone, "tried to post", exc)
        else:
            raise NodeError(f"{gone}'s node accepted a post after her removal")
        if self.room:
            self._lock_out(gone)

    def _lock_out(self, gone: str) -> None:
        """After a removal, a remaining participant's node rotates the private room's key."""
        room = self.room
        wait_until(
            lambda: not _readable(self.nodes[gone], room) and _readable(self.nodes["bob"], room),
            WAIT,
            "the organisers' room key to be rotated",
        )
        self.say.did("", f"the organisers' room got a fresh key sealed to alice and bob only, not to {gone}")
        text = "New code for the tool shed: 4711"
        post = self.nodes["alice"].api.post("/v1/posts", {"text": text, "room": room})["id"]
        wait_until(lambda: _reads(self.nodes["bob"], room, text), WAIT, "bob to read alice's post")
        wait_until(
            lambda: self.nodes[gone].api.get("/v1/status")["store"]["sealed"] >= 2, WAIT, f"{gone}'s node to hold it"
        )
        if _reads(self.nodes[gone], room, text):
            raise NodeError(f"{gone} could read the private room after her removal")
        self.say.did(gone, f"holds alice's new sealed post {post[:12]}… but cannot open it")

    # ------------------------------------------------------------------ helpers

    def spot(self, name: str) -> str:
        """The lab namespace of ``name``'s node: the public host for the first founder, else a home."""
        assert self.lab is not None
        index = NAMES.index(name)
        return self.lab.public(0) if index == 0 else self.lab.home(index - 1)

    def _bootstrap(self, name: str, every_peer: tuple[str, ...]) -> tuple[str, ...]:
        """Whom ``name``'s node dials: everyone on loopback; behind NATs only the public node."""
        if self.lab is None:
            return every_peer
        first = NAMES[0]
        if name == first:
            return ()
        public = self.nodes[first].config if first in self.nodes else None
        return (peer_addr(public),) if public is not None else every_peer[:1]

    def _wait_for_block(self, block: int) -> None:
        def seen() -> bool:
            return all((node.api.get("/v1/status")["chain"]["cursor"] or 0) >= block for node in self.nodes.values())

        wait_until(seen, WAIT, f"every node to apply block {block}")
        # an ending counts at the end of its block's second (node/spec/wire-format.md, section 4)
        stamp = int(self.client.w3.eth.get_block(block)["timestamp"])
        wait_until(lambda: time.time() >= stamp + 1, 5, f"the second of block {block} to pass")

    def _wait_everywhere(self, post_id: str, present: bool) -> None:
        def check() -> bool:
            return all(node.has_post(post_id) == present for node in self.nodes.values())

        wait_until(check, WAIT, f"post {post_id[:12]} to be {'on' if present else 'gone from'} every feed", 0.02)

    def summary(self) -> None:
        click.secho("\nEach node now", bold=True)
        rows = []
        for name, node in self.nodes.items():
            status = node.api.get("/v1/status")
            visible = len(node.api.get("/v1/feed?limit=200")["items"])
            refused = status["messages"]["refused"]
            rows.append(
                (
                    name,
                    status.get("member_name", "-"),
                    visible,
                    status["store"]["hidden"],
                    sum(refused.values()),
                    ", ".join(f"{k} {v}" for k, v in refused.items()) or "-",
                    status["peers"],
                    "yes" if status["member"] and self.client.is_member(status["member"]) else "no",
                )
            )
        click.echo(
            table(["node", "shown as", "posts seen", "hidden", "refused", "refused by reason", "peers", "member"], rows)
        )
        click.secho("\nProposals", bold=True)
        click.echo(proposals_table(self.client.proposals()))
        click.secho("\nGas per operation", bold=True)
        gas_rows = [(op, len(v), f"{min(v):,}", f"{max(v):,}") for op, v in self.say.gas.items()]
        click.echo(table(["operation", "count", "min gas", "max gas"], gas_rows))
        catch_up(self, self.names[0], self.began_ms)

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        strays = kill_strays(self.root)  # a node whose start a Ctrl-C cut short
        if strays:
            click.echo(f"   killed {len(strays)} node process(es) a Ctrl-C left without a handle", err=True)


def _room(node: NodeProcess, room: str) -> dict[str, Any] | None:
    return next((r for r in node.api.get("/v1/rooms")["rooms"] if r["id"] == room), None)


def _readable(node: NodeProcess, room: str) -> bool:
    found = _room(node, room)
    return bool(found and found["readable"])


def _holds(node: NodeProcess, room: str, key: str) -> bool:
    """Whether ``key`` is the room's current key at ``node``, and sealed to it."""
    found = _room(node, room)
    return bool(found and found["readable"] and found["key"] == key)


def _reads(node: NodeProcess, room: str, text: str) -> bool:
    return any(item["text"] == text for item in node.api.get(f"/v1/feed?room={room}")["items"])


def _poll(node: NodeProcess, poll: str) -> list[int] | None:
    found = node.find(f"/v1/polls/{poll}")
    return None if found is None else list(found["tally"])
