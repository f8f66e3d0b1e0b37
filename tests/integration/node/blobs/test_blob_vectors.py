"""A real node answers ``/kiez/blob/1.0.0`` requests exactly as node/spec/blob-vectors.json says:
the found and the not-found response byte for byte, and nothing at all to a malformed request."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import trio

from node.blobs.service import PROTOCOL, BlobService
from node.p2p import open_host
from node.store import Store
from tests.unit.node.core import blob_vectors_gen
from tests.unit.node.core.vectorfile import unhexed

DOC: dict[str, Any] = json.loads(blob_vectors_gen.PATH.read_text(encoding="utf-8"))


def test_the_committed_frames_are_what_the_generator_makes() -> None:
    assert blob_vectors_gen.PATH.read_text(encoding="utf-8") == blob_vectors_gen.render(), (
        "node/spec/blob-vectors.json is stale: python -m tests.unit.node.core.blob_vectors_gen --write"
    )


@pytest.mark.parametrize("exchange", DOC["exchanges"], ids=[e["name"] for e in DOC["exchanges"]])
def test_a_node_answers_as_the_vectors_say(exchange: dict[str, Any], tmp_path: Path) -> None:
    store = Store.open(tmp_path / "blobs.db")
    held = DOC["held"]
    store.blobs.put(unhexed(held["sha256"]), held["mime"], unhexed(held["data"]), keep_until_ms=2**62)
    answers: list[bytes | None] = []

    async def body() -> None:
        async with open_host(os.urandom(32)) as server, open_host(os.urandom(32)) as client:
            BlobService(server, store).register()
            await client.connect(server.addrs[0])
            with trio.fail_after(30):
                stream = await client.open_stream(server.peer_id, PROTOCOL)
                request = unhexed(exchange["request"])
                await stream.write_frame(request[4:])
                answer = await stream.read_frame(blob_vectors_gen.MAX_RESPONSE)
                answers.append(None if answer is None else len(answer).to_bytes(4, "big") + answer)
                await stream.close(2)

    try:
        trio.run(body)
    finally:
        store.close()
    expected = exchange["response"]
    assert answers == [None if expected is None else unhexed(expected)]
