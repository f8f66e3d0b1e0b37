"""The change count wakes every waiter once per bump, and a waiter that is behind returns at once."""

from __future__ import annotations

import trio
import trio.testing

from node.daemon.changes import Changes


def test_waiters_wake_on_a_bump_and_a_late_waiter_does_not_wait() -> None:
    changes = Changes()
    woke: list[int] = []

    async def waiter() -> None:
        woke.append(await changes.wait_past(0))

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            assert woke == []
            changes.bump()
        assert woke == [1, 1]
        changes.bump()
        assert await changes.wait_past(0) == 2  # behind: no wait
        with trio.move_on_after(1) as waited:
            await changes.wait_past(2)
        assert waited.cancelled_caught  # nothing new: it waits

    trio.run(run, clock=trio.testing.MockClock(autojump_threshold=0))
