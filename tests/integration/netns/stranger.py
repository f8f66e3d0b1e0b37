"""A stranger's libp2p host (no member's node: no peer record anyone knows) that connects to the
relay at ``argv[1]`` and asks for a reservation; prints ``reserved`` or ``refused: <status>``.
Run inside a lab namespace by test_nat_relay.py."""

from __future__ import annotations

import os
import sys

import trio

from node.p2p import DialFailed, open_host
from node.p2p.relay import RelayClient


async def main(relay_addr: str) -> None:
    async with open_host(os.urandom(32), "0.0.0.0", 0) as host:
        await host.connect(relay_addr)
        client = RelayClient(host, list)
        relay = relay_addr.rsplit("/p2p/", 1)[1]
        try:
            held = await client.reserve_on(relay, relay_addr)
        except DialFailed as error:
            print(f"failed: {error.reason}")
            return
        print("reserved" if held is not None else f"refused: {client.counters.refusals[relay]}")


if __name__ == "__main__":
    trio.run(main, sys.argv[1])
