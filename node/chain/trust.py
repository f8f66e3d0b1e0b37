"""What the watcher checks before it believes the endpoint, and the sentences it says when not.

The endpoint is one server the node does not control; it may be re-pointed at another chain,
lag behind, sit behind a load balancer whose backends disagree, or lie. Each check here guards
one way its answers could corrupt the view: another chain id, logs that name another block than
the block the endpoint reports at that number, a block the view was built on that the endpoint
no longer knows, and a reorganisation deeper than the confirmations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from governance.events import Event
from governance.humanize import short_hex
from governance.replies import BlockRef
from node.errors import NodeError


class ChainDistrusted(NodeError):
    """The endpoint's answers contradict what the node knows; nothing of them is applied."""


def check_chain_id(reported: int, expected: int) -> None:
    if reported != expected:
        raise ChainDistrusted(
            f"the chain endpoint reports chain id {reported}, but this community lives on {expected}: "
            "nothing is read from it until it serves that chain again"
        )


def check_logs_match(events: Iterable[Event], blocks: Mapping[int, BlockRef]) -> None:
    """Every event's log names the block the endpoint reports at that number."""
    for event in events:
        number = event.log.block_number
        block = blocks[number]
        if event.log.block_hash != block.hash:
            raise ChainDistrusted(
                f"the chain endpoint's logs place an event in block {number} {short_hex(event.log.block_hash)}, "
                f"but it reports block {number} as {short_hex(block.hash)}: the logs do not match the blocks, "
                "so none of them is applied"
            )


def missing_block(number: int) -> ChainDistrusted:
    """The endpoint does not know a block the view applied: behind, or on another chain; it is
    not taken for a reorganisation (a lagging backend would otherwise wipe the view)."""
    return ChainDistrusted(
        f"the chain endpoint has no block {number}, which this node's view is built on: it is behind "
        "or follows another chain; waiting for it to serve that block"
    )


def deep_reorg(number: int, applied: bytes, now: bytes, confirmations: int) -> ChainDistrusted:
    return ChainDistrusted(
        f"reorg deeper than the {confirmations} confirmations at block {number}: the chain endpoint now "
        f"reports {short_hex(now)} there, but this node's view applied {short_hex(applied)}; the view is "
        "kept as it is and the chain no longer followed until the endpoint serves that block again "
        "(if the chain really reorganised this deep, restart the node: it then rebuilds its view from "
        "the chain as it is now)"
    )
