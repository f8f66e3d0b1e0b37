"""Generates node/spec/sync-vectors.json: whole sync sessions (spec section 8) between fixed sets
of messages, frame by frame, as node/core/reconcile.py and node/core/syncwire.py make them.

``python -m tests.unit.node.core.sync_vectors_gen --write`` rewrites the file;
tests/unit/node/core/test_sync_vectors.py replays every turn against the code, and
tests/integration/node/sync/test_sync_vectors.py runs each session between two real nodes.

A session here is driven the way the spec's section 8 says (and node/sync/service.py does): the
initiator sends one fingerprint over everything; each side answers a turn with the envelopes it
gives (MESSAGES, before anything else), then its own turn, or closes when it has nothing to ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from node.core import syncwire
from node.core.encoding import decode
from node.core.reconcile import (
    BOUND_PREFIX,
    BRANCHES,
    FINGERPRINT,
    ID_LIST,
    ID_PREFIX,
    LEAF,
    MAX_BOUND,
    SKIP,
    ItemSet,
    Range,
    Reconciler,
)
from node.core.types import Kind, PostBody
from tests.unit.node.core import vectorfile
from tests.unit.node.core.vectorfile import hexed
from tests.unit.node.core.vectors_base import JOINED_MS, sign

PATH = vectorfile.SPEC / "sync-vectors.json"
SIDES = ("initiator", "responder")
POOL = 427  # enough for a split of a split: 16 ranges of more than 24 items each, and then some


@dataclass(frozen=True)
class Pooled:
    timestamp_ms: int
    id: bytes
    envelope: bytes


def pool() -> list[Pooled]:
    """Posts by alice and bob, two by two with the same timestamp (so bounds need id prefixes)."""
    out = []
    for n in range(POOL):
        envelope = sign(
            "alice" if n % 3 else "bob", Kind.POST, PostBody(f"sync #{n}"), JOINED_MS + 60_000 + n // 2 * 7_000
        )
        message = decode(envelope)
        out.append(Pooled(message.timestamp_ms, message.id, envelope))
    return sorted(out, key=lambda p: (p.timestamp_ms, p.id))


def sessions() -> dict[str, tuple[str, list[int], list[int]]]:
    """Each session: what it shows, and the pool positions each side holds."""
    everything = list(range(POOL))
    only_initiator, only_responder = {50, 125, 200, 333}, {7, 118, 119, 120, 121, 400}
    return {
        "identical": (
            "both hold the same 20 messages: one turn, the responder closes",
            everything[:20],
            everything[:20],
        ),
        "initiator-has-nothing": ("the responder gives all it has at once", [], everything[:20]),
        "responder-has-nothing": ("the responder lists no ids; the initiator gives all", everything[:20], []),
        "scattered": (
            "4 and 6 messages missing on either side among 417 shared: fingerprints, splits of splits, "
            "id lists, gives, and a turn with both ranges and wants",
            [n for n in everything if n not in only_responder],
            [n for n in everything if n not in only_initiator],
        ),
    }


def range_json(r: Range) -> list[Any]:
    payload: Any = None
    if r.mode == FINGERPRINT:
        payload = {"fingerprint": hexed(r.fingerprint), "count": r.count}
    elif r.mode == ID_LIST:
        payload = {"ids": [hexed(i) for i in r.ids]}
    assert r.mode in (SKIP, FINGERPRINT, ID_LIST)
    return [r.upper[0], hexed(r.upper[1]), r.mode, payload]


def transcript(holdings: Sequence[list[Pooled]]) -> list[dict[str, Any]]:
    """The frames of one session between sides holding ``holdings[0]`` and ``holdings[1]``."""
    items = [ItemSet([(p.timestamp_ms, p.id) for p in held]) for held in holdings]
    sides = [Reconciler(i) for i in items]
    envelopes = [{p.id: p.envelope for p in held} for held in holdings]
    steps: list[dict[str, Any]] = []

    def turn(side: int, ranges: list[Range], want: list[bytes]) -> bytes:
        frame = syncwire.turn_frame(ranges, want)
        steps.append(
            {
                "from": SIDES[side],
                "type": "turn",
                "frame": hexed(frame),
                "ranges": [range_json(r) for r in ranges],
                "want": [hexed(w) for w in want],
            }
        )
        return frame

    frame, sender = turn(0, sides[0].initiate(), []), 0
    while True:
        me = 1 - sender
        _, (ranges, want) = syncwire.decode(frame[4:])
        outcome = sides[me].respond(ranges)
        given = outcome.given(items[me]) + sides[me].wanted(want)
        if given:
            frames = syncwire.messages_frames([envelopes[me][i] for i in given])
            steps.append(
                {
                    "from": SIDES[me],
                    "type": "messages",
                    "ids": [hexed(i) for i in given],
                    "frames": [hexed(f) for f in frames],
                }
            )
        if not outcome.ranges and not outcome.want:
            steps.append({"from": SIDES[me], "type": "close"})
            return steps
        frame, sender = turn(me, outcome.ranges, outcome.want), me


def build() -> dict[str, Any]:
    messages = pool()
    out = []
    for name, (description, first, second) in sessions().items():
        holdings = [[messages[n] for n in first], [messages[n] for n in second]]
        out.append(
            {
                "name": name,
                "description": description,
                "initiator": first,
                "responder": second,
                "transcript": transcript(holdings),
            }
        )
    return {
        "format": "kiez-sync-vectors/1",
        "about": "Sync sessions for node/spec/wire-format.md section 8. 'messages' is a pool of posts (valid "
        "in the world of vectors.json, by sync); each session names the pool positions each side holds and "
        "lists its frames in order. Turn frames are exact bytes. The envelopes a side gives in one answer "
        "('ids') may come in any order and grouping of MESSAGES frames; 'frames' is this implementation's.",
        "constants": {
            "id_prefix": ID_PREFIX,
            "bound_prefix": BOUND_PREFIX,
            "leaf": LEAF,
            "branches": BRANCHES,
            "max_bound": [MAX_BOUND[0], hexed(MAX_BOUND[1])],
            "max_frame": syncwire.MAX_FRAME,
        },
        "messages": [
            {"timestamp_ms": p.timestamp_ms, "id": hexed(p.id), "envelope": hexed(p.envelope)} for p in messages
        ],
        "sessions": out,
    }


def render() -> str:
    return vectorfile.render(build())


if __name__ == "__main__":
    vectorfile.main(PATH, render)
