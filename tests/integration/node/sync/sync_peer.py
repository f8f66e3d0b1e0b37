"""A raw libp2p peer that abuses ``/kiez/sync/1.0.0`` on purpose: the attacker in sync tests.

    python -m tests.integration.node.sync.sync_peer --bootstrap MULTIADDR --mode MODE [options]

It connects to the node at MULTIADDR (not a gossip peer, not a kiez node) and, by ``--mode``:

- ``hold``: answers every sync stream the node opens to it by reading and never writing, and opens
  ``--streams`` streams of its own to the node on which it never writes either;
- ``asks``: runs ``--sessions`` sessions one after the other, each asking the node for everything
  it holds in every turn, up to ``--asks`` times (a turn whose first range claims to hold nothing
  below the year 146 million, whose second range keeps the conversation going);
- ``frames``: one session of ``--frames`` empty MESSAGES frames, as fast as the node reads them;
- ``flood``: one session of ``--frames`` MESSAGES frames, each the same 2048 posts signed an hour
  ago by a key the community never authorised (``--chain-id``, ``--contract``); then it tries to
  open one more sync stream.

stdout, one JSON object a line: {"event": "ready", "peer_id": ...} once and {"event": "peers", ...}
whenever the set of connected peers changes (both as raw_peer.py). ``hold``: {"event": "held"}
when the node opens a stream, {"event": "opened", "ok": bool} for each of its own (false: refused
at once), {"event": "released", "mine": bool} when the node closes or resets one. ``asks``:
{"event": "session", "envelopes": N, "distinct": N, "bytes": N, "asks": N} per session, then {"event":
"done"}. ``frames`` and ``flood``: {"event": "wrote", "frames": N} once the node stops reading (or
all were written); ``flood`` then {"event": "second_stream", "opened": bool}.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time

import trio

from node.core import syncwire
from node.core.reconcile import FINGERPRINT, MAX_BOUND, Range
from node.core.signing import Signer
from node.core.syncwire import MESSAGES, TURN
from node.core.types import Community, Kind, PostBody
from node.p2p import P2PHost, Stream, StreamFailed, open_host
from node.p2p.streams import HEADER_BYTES
from tests.integration.node.raw_peer import emit, report_peers, until_stdin_closes

#: A bound above every real message (timestamps are milliseconds: the year 146 million).
ABOVE_ALL = (2**62, b"")
FLOOD_POSTS = syncwire.MAX_ENVELOPES


def everything_turn() -> bytes:
    """ "I hold nothing below ``ABOVE_ALL``" (the node gives all it has) and a fingerprint that
    cannot match above it (the node answers with an empty id list, so the session goes on)."""
    ranges = [Range(ABOVE_ALL, FINGERPRINT, bytes(16), 0), Range(MAX_BOUND, FINGERPRINT, secrets.token_bytes(16), 1)]
    return syncwire.turn_frame(ranges, [])[HEADER_BYTES:]


async def read_until_closed(stream: Stream) -> None:
    try:
        while await stream.read_frame(syncwire.MAX_FRAME) is not None:
            pass
    except StreamFailed:
        pass


async def hold(host: P2PHost, target: str, streams: int) -> None:
    async def held(stream: Stream) -> None:
        emit("held")
        await read_until_closed(stream)
        emit("released", mine=False)

    host.set_stream_handler(syncwire.PROTOCOL, held)
    async with trio.open_nursery() as nursery:
        for _ in range(streams):
            try:
                stream = await host.open_stream(target, syncwire.PROTOCOL)
            except StreamFailed:  # refused while negotiating the protocol
                emit("opened", ok=False)
                emit("released", mine=True)
            else:
                emit("opened", ok=True)
                nursery.start_soon(_hold_mine, stream)
        await trio.sleep_forever()


async def _hold_mine(stream: Stream) -> None:
    await read_until_closed(stream)
    emit("released", mine=True)


async def asks(host: P2PHost, target: str, sessions: int, limit: int) -> list[dict[str, int]]:
    """Runs the sessions; per session, what it got: envelopes, distinct ones, their bytes, asks made."""
    results = []
    for _ in range(sessions):
        envelopes: list[bytes] = []
        asked = 0
        try:
            stream = await host.open_stream(target, syncwire.PROTOCOL)
            while asked < limit:
                await stream.write_frame(everything_turn())
                asked += 1
                if not await _read_answer(stream, envelopes):
                    break
            await stream.close(5.0)
            await read_until_closed(stream)  # the node's end of the session
        except StreamFailed:
            pass
        got = {"envelopes": len(envelopes), "distinct": len(set(envelopes)), "bytes": sum(map(len, envelopes))}
        results.append({**got, "asks": asked})
        emit("session", **results[-1])
    return results


async def _read_answer(stream: Stream, envelopes: list[bytes]) -> bool:
    """Reads MESSAGES frames up to the node's next turn; False if the stream ended first."""
    while (body := await stream.read_frame(syncwire.MAX_FRAME)) is not None:
        kind, contents = syncwire.decode(body)
        if kind == TURN:
            return True
        envelopes += contents
    return False


async def write_frames(host: P2PHost, target: str, body: bytes, frames: int) -> None:
    written = 0
    try:
        stream = await host.open_stream(target, syncwire.PROTOCOL)
        for _ in range(frames):
            await stream.write_frame(body)
            written += 1
    except StreamFailed:
        pass
    emit("wrote", frames=written)


def flood_frame(community: Community) -> bytes:
    stranger = Signer(os.urandom(32))
    at = int(time.time() * 1000) - 3600 * 1000
    posts = [stranger.envelope(community, Kind.POST, PostBody(f"unsolicited {n}"), at + n) for n in range(FLOOD_POSTS)]
    return syncwire.pack([MESSAGES, posts])[HEADER_BYTES:]


async def flood(host: P2PHost, target: str, community: Community, frames: int) -> None:
    await write_frames(host, target, flood_frame(community), frames)
    try:
        with trio.fail_after(10):
            stream = await host.open_stream(target, syncwire.PROTOCOL)
            await stream.write_frame(everything_turn())
            opened = await stream.read_frame(syncwire.MAX_FRAME) is not None
    except (StreamFailed, trio.TooSlowError):
        opened = False
    emit("second_stream", opened=opened)


async def attack(args: argparse.Namespace, host: P2PHost, target: str) -> None:
    if args.mode == "hold":
        await hold(host, target, args.streams)
    elif args.mode == "asks":
        await asks(host, target, args.sessions, args.asks)
        emit("done")
    elif args.mode == "frames":
        await write_frames(host, target, syncwire.pack([MESSAGES, []])[HEADER_BYTES:], args.frames)
    else:
        community = Community(args.chain_id, bytes.fromhex(args.contract.removeprefix("0x")))
        await flood(host, target, community, args.frames)


async def run(args: argparse.Namespace) -> None:
    target = args.bootstrap.rsplit("/", 1)[-1]
    async with open_host(secrets.token_bytes(32)) as host:
        emit("ready", peer_id=host.peer_id, addrs=host.addrs)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(report_peers, host)
            await host.connect(args.bootstrap)
            nursery.start_soon(attack, args, host, target)
            await until_stdin_closes()
            nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--mode", choices=["hold", "asks", "frames", "flood"], required=True)
    parser.add_argument("--streams", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--asks", type=int, default=64)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--chain-id", type=int, default=0)
    parser.add_argument("--contract", default="")
    trio.run(run, parser.parse_args())


if __name__ == "__main__":
    main()
