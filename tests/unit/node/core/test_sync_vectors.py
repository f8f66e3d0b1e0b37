"""The reconciler and the sync frames agree with the published sessions (node/spec/sync-vectors.json).

Each session is replayed from the JSON file alone: every turn frame is decoded, answered by the
other side's ``Reconciler``, and the answer must be the next frames of the transcript, byte for
byte; every fingerprint is recomputed from the spec's formula, and both sides end with the union.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from node.core import reconcile, syncwire
from node.core.encoding import decode
from node.core.reconcile import FINGERPRINT, ItemSet, Range, Reconciler

from . import sync_vectors_gen
from .vectorfile import unhexed

DOC: dict[str, Any] = json.loads(sync_vectors_gen.PATH.read_text(encoding="utf-8"))
SESSIONS = DOC["sessions"]
Key = tuple[int, bytes]


def test_the_committed_sessions_are_what_the_generator_makes() -> None:
    assert sync_vectors_gen.PATH.read_text(encoding="utf-8") == sync_vectors_gen.render(), (
        "node/spec/sync-vectors.json is stale: python -m tests.unit.node.core.sync_vectors_gen --write"
    )


def test_the_constants_are_the_codes() -> None:
    constants = DOC["constants"]
    assert (constants["id_prefix"], constants["bound_prefix"]) == (reconcile.ID_PREFIX, reconcile.BOUND_PREFIX)
    assert (constants["leaf"], constants["branches"]) == (reconcile.LEAF, reconcile.BRANCHES)
    assert (constants["max_bound"][0], unhexed(constants["max_bound"][1])) == reconcile.MAX_BOUND
    assert constants["max_frame"] == syncwire.MAX_FRAME


def test_the_pool_is_what_its_envelopes_say() -> None:
    for entry in DOC["messages"]:
        message = decode(unhexed(entry["envelope"]))
        assert (message.timestamp_ms, "0x" + message.id.hex()) == (entry["timestamp_ms"], entry["id"])


def _keys(positions: list[int]) -> list[Key]:
    return [(DOC["messages"][n]["timestamp_ms"], unhexed(DOC["messages"][n]["id"])) for n in positions]


def _fingerprint(keys: list[Key], lower: Key, upper: Key) -> tuple[bytes, int]:
    """The spec's formula, written out: SHA-256(sum of the first 16 id bytes mod 2^128 || count)[:16]."""
    inside = [ident for stamp, ident in keys if lower <= (stamp, ident) < upper]
    total = sum(int.from_bytes(ident[:16], "big") for ident in inside) % 2**128
    return hashlib.sha256(total.to_bytes(16, "big") + len(inside).to_bytes(8, "big")).digest()[:16], len(inside)


def _check_turn(step: dict[str, Any], sender_keys: list[Key]) -> tuple[list[Range], list[bytes]]:
    frame = unhexed(step["frame"])
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    kind, (ranges, want) = syncwire.decode(frame[4:])
    assert kind == syncwire.TURN
    assert syncwire.turn_frame(ranges, want) == frame  # one spelling
    assert [sync_vectors_gen.range_json(r) for r in ranges] == step["ranges"]
    assert ["0x" + w.hex() for w in want] == step["want"]
    lower: Key = reconcile.MIN_BOUND
    for r in ranges:
        bound = r.upper[1]
        assert len(bound) == (0 if r.upper == reconcile.MAX_BOUND else reconcile.BOUND_PREFIX)
        if r.mode == FINGERPRINT:
            assert (r.fingerprint, r.count) == _fingerprint(sender_keys, lower, r.upper)
        lower = r.upper
    return ranges, want


@pytest.mark.parametrize("session", SESSIONS, ids=[s["name"] for s in SESSIONS])
def test_session(session: dict[str, Any]) -> None:
    keys = [_keys(session["initiator"]), _keys(session["responder"])]
    envelopes = {unhexed(m["id"]): unhexed(m["envelope"]) for m in DOC["messages"]}
    items = [ItemSet(k) for k in keys]
    sides = [Reconciler(i) for i in items]
    holds = [{ident for _, ident in k} for k in keys]
    steps = list(session["transcript"])
    first = steps.pop(0)
    assert (first["from"], first["type"]) == ("initiator", "turn")
    assert unhexed(first["frame"]) == syncwire.turn_frame(sides[0].initiate(), [])
    ranges, want = _check_turn(first, keys[0])
    me = 1
    while True:
        outcome = sides[me].respond(ranges)
        given = outcome.given(items[me]) + sides[me].wanted(want)
        name = sync_vectors_gen.SIDES[me]
        if given:
            step = steps.pop(0)
            assert (step["from"], step["type"], step["ids"]) == (name, "messages", ["0x" + i.hex() for i in given])
            frames = [unhexed(f) for f in step["frames"]]
            assert frames == syncwire.messages_frames([envelopes[i] for i in given])
            received = [e for f in frames for e in syncwire.decode(f[4:])[1]]
            holds[1 - me] |= {decode(e).id for e in received}
        step = steps.pop(0)
        assert step["from"] == name
        if not outcome.ranges and not outcome.want:
            assert step["type"] == "close"
            break
        assert unhexed(step["frame"]) == syncwire.turn_frame(outcome.ranges, outcome.want)
        ranges, want = _check_turn(step, keys[me])
        me = 1 - me
    assert steps == []
    assert holds[0] == holds[1] == {ident for k in keys for _, ident in k}
