"""Attachments over ``/kiez/blob/1.0.0`` between two real hosts with real SQLite stores: a node
keeps only bytes that hash to the name it asked for and have the announced size."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import trio

from node.blobs.service import BlobService
from node.p2p import open_host
from node.store import Store

PICTURE = b"\x89PNG\r\n\x1a\n" + os.urandom(300_000)


def test_a_peer_serves_what_it_holds_and_wrong_bytes_are_refused(tmp_path: Path) -> None:
    good = hashlib.sha256(PICTURE).digest()
    forged = hashlib.sha256(b"what the post named").digest()
    serving, asking = Store.open(tmp_path / "a.db"), Store.open(tmp_path / "b.db")
    serving.blobs.put(good, "image/png", PICTURE, keep_until_ms=2**62)
    serving.blobs.put(forged, "image/png", b"something else entirely", keep_until_ms=2**62)

    async def body() -> None:
        async with open_host(os.urandom(32)) as a, open_host(os.urandom(32)) as b:
            server, client = BlobService(a, serving), BlobService(b, asking)
            server.register()
            client.register()
            await b.connect(a.addrs[0])
            with trio.fail_after(30):
                assert await client.fetch(a.peer_id, good, len(PICTURE)) == ("image/png", PICTURE)
                assert await client.fetch(a.peer_id, good, len(PICTURE) - 1) is None  # not the announced size
                assert await client.fetch(a.peer_id, forged, 23) is None  # bytes that do not hash to the name
                assert await client.fetch(a.peer_id, b"\x00" * 32, 10) is None  # not held
            assert server.served == 3

    try:
        trio.run(body)
    finally:
        serving.close()
        asking.close()
