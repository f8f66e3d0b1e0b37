"""Event and poll times beyond 2^53 - 1 ms are malformed on every path, and nothing is stored.

msgpack carries integers up to 2^64 - 1, but JSON readers of the API and JavaScript peers hold
exact integers only up to 2^53 - 1: a time beyond it was accepted from a peer and then read back
differently by each of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.core.encoding import decode
from node.core.types import AnswerBody, Body, EventBody, Kind, PollBody
from node.core.validation import Via
from node.core.verdict import Outcome, Reason
from node.daemon.service import NodeService
from node.store import Store
from tests.unit.node.core.helpers import COMMUNITY, NOW_MS, envelope, signer, view_with

HUGE = [2**53, 2**63, 2**64 - 1]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[NodeService]:
    store = Store.open(tmp_path / "node.db")
    yield NodeService(store, view_with("alice"), signer("alice"), COMMUNITY, clock=lambda: NOW_MS / 1000)
    store.close()


def _bodies(huge: int) -> list[tuple[Kind, Body]]:
    return [
        (Kind.EVENT, EventBody("picnic", NOW_MS, huge, "")),
        (Kind.EVENT, EventBody("picnic", huge, huge, "")),
        (Kind.POLL, PollBody("when?", ("a", "b"), huge)),
    ]


@pytest.mark.parametrize("huge", HUGE)
def test_times_beyond_the_range_are_malformed_by_gossip_and_by_sync(service: NodeService, huge: int) -> None:
    for kind, body in _bodies(huge):
        verdict = service.ingest(envelope("alice", kind, body), Via.GOSSIP)
        assert verdict.outcome is Outcome.REJECT
        assert verdict.reason is Reason.MALFORMED
        assert service.ingest_batch([envelope("alice", kind, body)], Via.SYNC).added == 0
    assert service.store.messages.sync_keys() == []


def test_the_last_time_in_range_is_accepted(service: NodeService) -> None:
    last = 2**53 - 1
    for kind, body in _bodies(last):
        assert service.ingest(envelope("alice", kind, body), Via.GOSSIP).outcome is Outcome.ACCEPT


@pytest.mark.parametrize("huge", HUGE)
def test_a_poll_answer_beyond_the_options_is_refused(service: NodeService, huge: int) -> None:
    poll = envelope("alice", Kind.POLL, PollBody("when?", ("a", "b"), NOW_MS + 60_000))
    assert service.ingest(poll, Via.GOSSIP).outcome is Outcome.ACCEPT
    answer = envelope("alice", Kind.ANSWER, AnswerBody(decode(poll).id, huge), NOW_MS + 1)
    assert service.ingest(answer, Via.GOSSIP).outcome is Outcome.REJECT
    assert len(service.store.messages.sync_keys()) == 1
