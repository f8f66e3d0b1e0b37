"""Pending inbound handshakes: who is displaced when a cap is reached, the deadline, the sources."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

import pytest
import trio
import trio.testing

from node.p2p.admission import (
    HANDSHAKE_TIMEOUT_S,
    UNKNOWN_SOURCE,
    Handshake,
    InboundLimits,
    PendingHandshakes,
    source_of,
)


def admit_all(pending: PendingHandshakes, stack: ExitStack, sources: list[str]) -> list[Handshake]:
    return [stack.enter_context(pending.admit(source)) for source in sources]


def in_trio(check: Callable[[], None]) -> None:
    """Run a synchronous check inside trio (the handshakes' cancel scopes read trio's clock)."""

    async def body() -> None:
        check()

    trio.run(body)


def test_a_source_at_its_cap_displaces_its_own_oldest_handshake() -> None:
    def check() -> None:
        pending = PendingHandshakes(InboundLimits(max_pending=10, max_pending_per_source=3))
        with ExitStack() as stack:
            other = admit_all(pending, stack, ["10.0.0.9"])
            first, second, third = admit_all(pending, stack, ["10.0.0.1"] * 3)
            (fourth,) = admit_all(pending, stack, ["10.0.0.1"])
            assert first.evicted
            assert first.scope.cancel_called
            assert not any(handshake.evicted for handshake in (second, third, fourth, *other))
            assert len(pending) == 4
            assert pending.status()["evicted"] == 1

    in_trio(check)


def test_a_full_table_displaces_the_oldest_handshake_whatever_its_source() -> None:
    def check() -> None:
        pending = PendingHandshakes(InboundLimits(max_pending=4, max_pending_per_source=2))
        with ExitStack() as stack:
            oldest, *rest = admit_all(pending, stack, ["10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.3"])
            (newcomer,) = admit_all(pending, stack, ["10.0.0.4"])
            assert oldest.evicted
            assert not newcomer.evicted
            assert not any(handshake.evicted for handshake in rest)
            assert pending.status()["pending"] == 4
            assert pending.status()["pending_sources"] == 3

    in_trio(check)


def test_a_finished_handshake_frees_its_slot_and_an_evicted_one_is_not_counted_twice() -> None:
    def check() -> None:
        pending = PendingHandshakes(InboundLimits(max_pending=2, max_pending_per_source=1))
        with pending.admit("10.0.0.1") as first:
            with pending.admit("10.0.0.1"):
                assert first.evicted
                assert len(pending) == 1
            assert len(pending) == 0
        assert len(pending) == 0
        assert pending.status()["evicted"] == 1
        assert pending.status()["timed_out"] == 0

    in_trio(check)


def test_a_handshake_that_misses_the_deadline_is_cancelled_and_counted() -> None:
    async def body() -> None:
        pending = PendingHandshakes(InboundLimits())
        with pending.admit("10.0.0.1") as handshake, handshake.scope:
            await trio.sleep_forever()
        assert handshake.scope.cancelled_caught
        assert not handshake.evicted
        assert pending.status()["timed_out"] == 1
        assert trio.current_time() >= HANDSHAKE_TIMEOUT_S

    trio.run(body, clock=trio.testing.MockClock(autojump_threshold=0))


def test_a_source_is_an_ipv4_address_or_an_ipv6_64() -> None:
    assert source_of("192.0.2.7") == "192.0.2.7"
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("::ffff:192.0.2.7") == "192.0.2.7"
    assert source_of(None) == source_of("not an address") == UNKNOWN_SOURCE


@pytest.mark.parametrize(("timeout_s", "max_pending", "per_source"), [(0.0, 8, 2), (1.0, 8, 0), (1.0, 4, 5)])
def test_limits_that_would_admit_nothing_are_refused(timeout_s: float, max_pending: int, per_source: int) -> None:
    with pytest.raises(ValueError, match=r"must be positive|need 1 <="):
        InboundLimits(handshake_timeout_s=timeout_s, max_pending=max_pending, max_pending_per_source=per_source)
