"""``kiez node run``: one node process, everything under one trio nursery.

Start-up checks everything that can be wrong before anything listens: the configuration, the key
files (mode 0600), the database, and the chain endpoint (reachable, the configured chain, a kiez
community at the address). Then the parts run side by side until the process is told to stop:

- the chain watcher (contract events -> view, effects, cursor);
- the libp2p host and gossipsub, whose validator validates and stores every message;
- the connection keeper (keeps ``target_peers`` connections: members' nodes from the address
  book first, then the bootstrap peers, then nodes found on the LAN by mDNS);
- the record publisher (this node's signed peer record, at start, on address changes, daily);
- connectivity: dial-backs that tell whether the node is publicly reachable, the members-only
  relay hop on public nodes, and relay reservations (circuit addresses) on private ones;
- sync (reconciles with each peer when it connects, and periodically);
- rooms: a gossip topic per followed room, and the upkeep that publishes this node's X25519 key
  and rotates the keys of the private rooms whose readers changed;
- attachments: fetching the blobs stored posts name from peers, and serving the ones it holds;
- the local HTTP API on 127.0.0.1.

When it is ready it prints one JSON line (``{"ready": ...}``) on stdout, so scripts and the devnet
know its peer id, addresses and API port without guessing.
"""

from __future__ import annotations

import json
import logging
import secrets
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

import trio

from governance.client import CommunityClient, checksum, connect_web3
from governance.errors import GovernanceError
from node.api.app import build_api
from node.api.server import serve
from node.blobs.service import BlobService
from node.chain import ChainWatcher, WatcherConfig
from node.config import NodeConfig, read_secret, write_private
from node.core.signing import Signer
from node.core.types import Community
from node.core.validation import Via
from node.core.verdict import Outcome
from node.daemon.connectivity import Connectivity
from node.daemon.discovery import DialSources
from node.daemon.records import RecordPublisher
from node.daemon.service import NodeService
from node.daemon.status import Parts, node_status
from node.errors import ConfigError
from node.p2p.config import GossipConfig
from node.p2p.gossip import Gossip, Judgement, P2PVerdict, open_gossip
from node.p2p.host import P2PHost, open_host
from node.p2p.keeper import ConnectionKeeper
from node.p2p.mdns import LanPeers, open_lan_discovery
from node.rooms.private import PrivateRooms
from node.rooms.topics import RoomTopics
from node.sponsor import SponsorService
from node.store import Store, StoreError
from node.sync.service import SyncService

log = logging.getLogger(__name__)

_BLAME_INTERVAL_S = 0.1
_VERDICTS = {Outcome.ACCEPT: P2PVerdict.ACCEPT, Outcome.IGNORE: P2PVerdict.IGNORE, Outcome.REJECT: P2PVerdict.REJECT}


def check_chain(config: NodeConfig) -> CommunityClient:
    """A client of the configured community, or ``ConfigError`` saying what does not fit."""
    try:
        client = CommunityClient(connect_web3(config.rpc_url), checksum(config.community))
        if client.chain_id != config.chain_id:
            raise ConfigError(
                f"the endpoint {config.rpc_url} serves chain {client.chain_id}, but the node is configured "
                f"for chain {config.chain_id}"
            )
        client.verify()
    except GovernanceError as exc:
        raise ConfigError(f"cannot use the chain: {exc}") from None
    return client


def _api_chain(config: NodeConfig) -> CommunityClient:
    """The API's own client of the community (the watcher's stays the watcher's, on its threads)."""
    return CommunityClient(connect_web3(config.rpc_url), checksum(config.community))


async def run_node(config: NodeConfig, on_ready: Callable[[dict[str, Any]], None] | None = None) -> None:
    app_seed = read_secret(config.app_key_path, 32)
    p2p_seed = read_secret(config.p2p_key_path, 32)
    if not config.x25519_key_path.exists():  # a home made before private rooms existed
        write_private(config.x25519_key_path, secrets.token_bytes(32))
    x25519_key = read_secret(config.x25519_key_path, 32)
    token = read_secret(config.token_path).strip()
    client = await trio.to_thread.run_sync(check_chain, config)
    try:
        store = Store.open(config.db_path)
    except StoreError as exc:
        raise ConfigError(str(exc)) from None
    try:
        await _run(config, client, store, Secrets(Signer(app_seed), p2p_seed, x25519_key, token), on_ready)
    finally:
        store.close()


async def _run(
    config: NodeConfig,
    client: CommunityClient,
    store: Store,
    secrets_: Secrets,
    on_ready: Callable[[dict[str, Any]], None] | None,
) -> None:
    signer, p2p_seed, token = secrets_.signer, secrets_.p2p_seed, secrets_.token
    view = store.chain.load_view()
    community = Community(config.chain_id, bytes.fromhex(config.community.removeprefix("0x")))
    service = NodeService(store, view, signer, community, name=config.name or config.home.name)
    watcher = ChainWatcher(
        client,
        store,
        view,
        WatcherConfig(poll_interval=config.poll_interval, confirmations=config.confirmations),
        on_effects=service.on_chain_batch,
    )

    async def validator(topic: str, data: bytes, peer: str) -> Judgement:
        verdict = service.ingest(data, Via.GOSSIP, peer)
        return Judgement(_VERDICTS[verdict.outcome], verdict.reason.value if verdict.reason else "")

    async with (
        open_host(p2p_seed, config.p2p_host, config.p2p_port) as host,
        open_gossip(host, GossipConfig(), validator) as gossip,
        _lan(config, host, community) as lan,
        trio.open_nursery() as nursery,
    ):
        await gossip.subscribe(config.topic)
        sync = SyncService(host, service, gossip, interval=config.sync_interval)
        sync.register()
        blobs = BlobService(host, store, on_kept=service.changes.bump)
        blobs.register()
        sponsor = _sponsor(config, host)
        rooms = PrivateRooms(service, secrets_.x25519_key)
        topics = RoomTopics(config, service, gossip, rooms)
        await topics.start()
        nursery.start_soon(topics.upkeep)
        nursery.start_soon(blobs.run)
        nursery.start_soon(watcher.run)
        nursery.start_soon(sync.run)
        nursery.start_soon(_blame_late, service, gossip)
        records = RecordPublisher(
            service, p2p_seed, host.peer_id, [lambda: host.addrs, lambda: config.announce], topics.broadcast
        )
        sources = DialSources(service, tuple(config.bootstrap), lan.found if lan is not None else None)
        connectivity = Connectivity(config, host, sources, records.changed)
        records.sources.append(connectivity.circuit_addrs)
        nursery.start_soon(connectivity.run)
        nursery.start_soon(records.run)
        # Reconnect quickly: a community has a handful of peers and a restarted one should be
        # back in the mesh within seconds.
        keeper = ConnectionKeeper(host, sources.candidates, config.target_peers, 1.0, max_backoff=10.0)
        nursery.start_soon(keeper.run)

        parts = Parts(
            config,
            service,
            host,
            gossip,
            watcher,
            sync,
            blobs,
            rooms,
            topics,
            keeper,
            records,
            lan is not None,
            sponsor,
            connectivity,
        )
        api_port = await _serve_api(nursery, parts, token)
        info = {"name": service.name, "peer_id": host.peer_id, "addrs": host.addrs, "api_port": api_port}
        log.info("node %s ready: peer %s, API on 127.0.0.1:%d", service.name, host.peer_id, api_port)
        if on_ready is not None:
            on_ready(info)
        await _until_signalled()
        nursery.cancel_scope.cancel()


def _sponsor(config: NodeConfig, host: P2PHost) -> SponsorService:
    """The sponsor protocol's handler; it pays only when ``config.sponsor`` is on (each payment
    on its own connection to the endpoint, from a worker thread)."""
    sponsor = SponsorService(
        host, config, lambda account: CommunityClient.connect(config.rpc_url, config.community, account)
    )
    sponsor.register()
    return sponsor


def _lan(config: NodeConfig, host: P2PHost, community: Community) -> AbstractAsyncContextManager[LanPeers | None]:
    """mDNS discovery of the community's nodes on the LAN, unless ``config.mdns`` is off."""
    if not config.mdns:
        return nullcontext(None)
    return open_lan_discovery(host, community.chain_id, community.contract)


async def _serve_api(nursery: trio.Nursery, parts: Parts, token: bytes) -> int:
    """Starts the local API over the running parts; returns its port."""
    api = build_api(
        parts.service,
        token,
        rooms=parts.rooms,
        broadcast=parts.topics.broadcast,
        follow=parts.topics.follow,
        following=parts.topics.following,
        status_extra=partial(node_status, parts),
        peers=parts.host.connected_peers,
        chain=partial(_api_chain, parts.config),
        keystore=parts.config.keystore_path,
    )
    port: int = await nursery.start(serve, api.app, api.connections, parts.config.api_port)
    return port


@dataclass(frozen=True)
class Secrets:
    """What the node's key files hold."""

    signer: Signer
    p2p_seed: bytes
    x25519_key: bytes
    token: bytes


async def _blame_late(service: NodeService, gossip: Gossip) -> None:
    """Turns posts from unknown keys that the caught-up chain view refuses into REJECTs of the
    peers that sent them (``NodeService.settle_unknown_keys``). The watcher advances the view every
    poll; checking a few times per poll interval keeps the penalty close behind the flood."""
    while True:
        for peer in service.settle_unknown_keys():
            gossip.blame(peer, "unknown_key")
        await trio.sleep(_BLAME_INTERVAL_S)


async def _until_signalled() -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("received %s; stopping", signal.Signals(signum).name)
            return


def print_ready(info: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps({"ready": info}) + "\n")
    sys.stdout.flush()


def main(config: NodeConfig) -> None:
    """Runs a node until SIGINT/SIGTERM; raises ConfigError when it cannot start."""
    trio.run(run_node, config, print_ready)
