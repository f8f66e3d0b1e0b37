"""Attachments over ``/kiez/blob/1.0.0`` between two real hosts with real SQLite stores: a node
keeps only bytes that hash to the name it asked for and have the announced size."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import trio

from node.blobs.service import BlobService
from node.core.types import Attachment, Kind, PostBody
from node.core.validation import Via
from node.core.verdict import Outcome
from node.daemon.service import NodeService
from node.p2p import open_host
from node.store import Store
from tests.unit.node.core.helpers import COMMUNITY, NOW_MS, envelope, signer, view_with

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


def test_bytes_that_are_not_the_type_their_post_names_are_never_kept(tmp_path: Path) -> None:
    """A post names a "picture" whose bytes are an HTML page: the asking node refuses them for
    good (a browser must never get them as an image/png), and still keeps a real picture."""
    page = b"<!doctype html><script>alert(document.cookie)</script>"
    named = {hashlib.sha256(data).digest(): data for data in (page, PICTURE)}
    serving, asking = Store.open(tmp_path / "a.db"), Store.open(tmp_path / "b.db")
    for sha256, data in named.items():
        serving.blobs.put(sha256, "image/png", data, keep_until_ms=2**62)  # a hostile peer's store
    service = NodeService(asking, view_with("alice"), signer("alice"), COMMUNITY, clock=lambda: NOW_MS / 1000)
    attachments = tuple(Attachment(sha256, len(data), "image/png") for sha256, data in named.items())
    post = envelope("alice", Kind.POST, PostBody("look", None, attachments))
    assert service.ingest(post, Via.GOSSIP).outcome is Outcome.ACCEPT

    async def body() -> None:
        async with open_host(os.urandom(32)) as a, open_host(os.urandom(32)) as b:
            BlobService(a, serving).register()
            client = BlobService(b, asking)
            await b.connect(a.addrs[0])
            with trio.fail_after(30):
                await client.fetch_missing()
            assert client.refused == {hashlib.sha256(page).digest()}
            assert client.fetched == 1

    try:
        trio.run(body)
        assert asking.blobs.get(hashlib.sha256(page).digest()) is None
        assert asking.blobs.get(hashlib.sha256(PICTURE).digest()) == ("image/png", PICTURE)
        assert [m for m in asking.blobs.missing()] == [(hashlib.sha256(page).digest(), len(page), "image/png")]
    finally:
        serving.close()
        asking.close()
