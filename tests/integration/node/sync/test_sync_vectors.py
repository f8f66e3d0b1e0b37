"""The node's sync sessions speak exactly the published transcripts (node/spec/sync-vectors.json):
two real nodes (real SQLite stores, real py-libp2p hosts) holding each session's messages run a
real session, and every frame the initiator writes and reads is compared with the transcript:
turn frames byte for byte, the envelopes given between two turns as a set (their grouping into
MESSAGES frames is the sender's choice), and who closes."""

from __future__ import annotations

import json
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, cast

import pytest
import trio

from node.core import syncwire
from node.core.encoding import decode
from node.core.signing import Signer
from node.core.syncbudget import PeerAllowance
from node.core.validation import Via
from node.daemon.service import NodeService
from node.p2p import Stream, open_host
from node.store import Store
from node.sync.service import PROTOCOL
from node.sync.session import Session, SyncResult
from tests.unit.node.core import sync_vectors_gen
from tests.unit.node.core.vectorfile import unhexed
from tests.unit.node.core.vectors_base import COMMUNITY, NOW_MS, seed, view

DOC: dict[str, Any] = json.loads(sync_vectors_gen.PATH.read_text(encoding="utf-8"))
Step = tuple[str, str, Any]  # (side, "turn" / "messages" / "close", frame bytes or envelope ids)


class Blames:
    """The peer ledger as sync sees it: an honest transcript must blame nobody."""

    def __init__(self) -> None:
        self.strikes: list[tuple[str, str]] = []

    def blame(self, peer_id: str, reason: str) -> None:
        self.strikes.append((peer_id, reason))

    def is_banned(self, peer_id: str) -> bool:
        return False


def _run(stream: Stream, service: NodeService, blames: Blames, initiator: bool) -> Coroutine[Any, Any, SyncResult]:
    return Session(stream, service, blames, PeerAllowance(lambda: 0.0), initiator).run()


class FrameLog:
    """The initiator's stream, recording each frame it writes (its own) and reads (the peer's)."""

    def __init__(self, stream: Stream, log: list[tuple[str, bytes | None]]) -> None:
        self._stream, self._log = stream, log
        self.peer_id = stream.peer_id

    @property
    def bytes_sent(self) -> int:
        return self._stream.bytes_sent

    @property
    def bytes_received(self) -> int:
        return self._stream.bytes_received

    async def write_frame(self, body: bytes) -> None:
        self._log.append(("initiator", body))
        await self._stream.write_frame(body)

    async def read_frame(self, limit: int) -> bytes | None:
        body = await self._stream.read_frame(limit)
        self._log.append(("responder", body))
        return body

    async def close(self, timeout_s: float) -> None:
        await self._stream.close(timeout_s)


def _steps(log: list[tuple[str, bytes | None]]) -> list[Step]:
    """The log as transcript steps: consecutive MESSAGES frames of one side are one answer."""
    steps: list[Step] = []
    for side, body in log:
        if body is None:
            steps.append((side, "close", None))
            continue
        kind, contents = syncwire.decode(body)
        if kind == syncwire.TURN:
            steps.append((side, "turn", len(body).to_bytes(4, "big") + body))
        elif steps and steps[-1][:2] == (side, "messages"):
            steps[-1][2].update(decode(e).id for e in contents)
        else:
            steps.append((side, "messages", {decode(e).id for e in contents}))
    if steps[-1][1] != "close":
        steps.append(("initiator", "close", None))  # it stopped without reading an end
    return steps


def _expected(session: dict[str, Any]) -> list[Step]:
    out: list[Step] = []
    for step in session["transcript"]:
        if step["type"] == "turn":
            out.append((step["from"], "turn", unhexed(step["frame"])))
        elif step["type"] == "messages":
            out.append((step["from"], "messages", {unhexed(i) for i in step["ids"]}))
        else:
            out.append((step["from"], "close", None))
    return out


def _service(path: Path, positions: list[int]) -> NodeService:
    service = NodeService(Store.open(path), view(), Signer(seed("alice")), COMMUNITY, clock=lambda: NOW_MS / 1000)
    envelopes = [unhexed(DOC["messages"][n]["envelope"]) for n in positions]
    assert service.ingest_batch(envelopes, Via.SYNC).added == len(envelopes)
    return service


@pytest.mark.parametrize("session", DOC["sessions"], ids=[s["name"] for s in DOC["sessions"]])
def test_a_real_session_is_the_transcript(session: dict[str, Any], tmp_path: Path) -> None:
    initiator = _service(tmp_path / "i.db", session["initiator"])
    responder = _service(tmp_path / "r.db", session["responder"])
    log: list[tuple[str, bytes | None]] = []
    blames = Blames()

    async def body() -> None:
        async with open_host(os.urandom(32)) as a, open_host(os.urandom(32)) as b:
            done = trio.Event()

            async def serve(stream: Stream) -> None:
                await _run(stream, responder, blames, False)
                done.set()

            b.set_stream_handler(PROTOCOL, serve)
            await a.connect(b.addrs[0])
            with trio.fail_after(60):
                stream = await a.open_stream(b.peer_id, PROTOCOL)
                result = await _run(cast(Stream, FrameLog(stream, log)), initiator, blames, True)
                await done.wait()
            assert result.error is None
            assert blames.strikes == []

    try:
        trio.run(body)
        assert _steps(log) == _expected(session)
        union = {unhexed(DOC["messages"][n]["id"]) for n in session["initiator"] + session["responder"]}
        for service in (initiator, responder):
            assert {ident for _, ident in service.store.messages.sync_keys()} == union
    finally:
        initiator.store.close()
        responder.store.close()
