"""Profiles in the store: the latest per member (whichever of their keys signed it), its avatar
listed for fetching, and an erase that takes it, down to the bytes of the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from node.core.encoding import decode
from node.core.types import Attachment, EraseBody, Kind, Message, ProfileBody
from node.store import Store
from tests.unit.node.core.helpers import NOW_MS, address, envelope

ALICE, BOB = address("alice"), address("bob")
PICTURE = b"\x89PNG\r\n\x1a\n" + b"an avatar"
AVATAR = Attachment(hashlib.sha256(PICTURE).digest(), len(PICTURE), "image/png")


def profile(name: str, shown: str, ts: int = NOW_MS, avatar: Attachment | None = None) -> Message:
    return decode(envelope(name, Kind.PROFILE, ProfileBody(shown, "a bio", avatar, ("https://example.org",)), ts))


def test_the_latest_profile_per_member_wins_in_any_order(store: Store) -> None:
    old, new = profile("alice", "Alice", NOW_MS), profile("alice", "Ali", NOW_MS + 1000)
    assert store.messages.add(new, ALICE, NOW_MS)
    assert not store.messages.add(old, ALICE, NOW_MS)  # older: not kept, not offered to sync
    assert [(p.member, p.name, p.links) for p in store.profiles.all()] == [(ALICE, "Ali", ("https://example.org",))]
    assert {i for _, i in store.messages.sync_keys()} == {new.id}
    newer = profile("alice", "Alice B.", NOW_MS + 2000)
    assert store.messages.add(newer, ALICE, NOW_MS)
    assert store.profiles.of(ALICE).name == "Alice B."  # type: ignore[union-attr]
    assert {i for _, i in store.messages.sync_keys()} == {newer.id}  # the one it replaced is gone
    assert store.profiles.of(BOB) is None


def test_an_avatar_is_fetched_like_an_attachment_and_an_erase_takes_the_profile_and_its_bytes(
    store: Store, tmp_path: Path
) -> None:
    store.messages.add(profile("alice", "Alice", avatar=AVATAR), ALICE, NOW_MS)
    assert store.blobs.missing() == [(AVATAR.sha256, AVATAR.size, "image/png")]
    store.blobs.put(AVATAR.sha256, "image/png", PICTURE)
    assert store.profiles.of(ALICE).avatar == (AVATAR.sha256, AVATAR.size, "image/png", True)  # type: ignore[union-attr]
    erase = decode(envelope("alice", Kind.ERASE, EraseBody(NOW_MS + 10), NOW_MS + 10))
    assert store.messages.add(erase, ALICE, NOW_MS)
    assert store.profiles.all() == []
    assert store.blobs.get(AVATAR.sha256) is None
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("node.db*"))
    assert b"a bio" not in raw
    assert b"an avatar" not in raw
