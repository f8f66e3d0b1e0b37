#!/usr/bin/env python3
"""Start a local chain with a community on it, for trying the CLI or developing against it.

Starts Anvil from node_modules on a free loopback port (or --port), waits until it answers,
deploys a community founded by Anvil's dev accounts 0..N-1, prints the addresses and the shell
settings for `kiez gov`, and keeps the chain running until Ctrl-C. The tests start their chain
and community through the same functions (governance.anvil, governance.devchain).

Usage: .venv/bin/python scripts/devchain.py [--port PORT] [--founders 3] [--no-wait]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys

from governance.anvil import start_anvil
from governance.devchain import deploy_dev_community
from governance.errors import GovernanceError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--founders", type=int, default=3, help="founding members, dev accounts 0..N-1 (1..9)")
    parser.add_argument("--no-wait", action="store_true", help="stop the chain right after printing")
    args = parser.parse_args()
    if not 1 <= args.founders <= 9:
        parser.error("--founders must be 1..9 (dev account 9 deploys)")
    try:
        with start_anvil(port=args.port) as anvil:
            community = deploy_dev_community(anvil, founders=args.founders)
            print(f"chain      {anvil.rpc_url} (chain id {community.chain_id})")
            print(f"community  {community.address}")
            for index, founder in enumerate(community.founders):
                print(f"founder    {founder.address}  (--dev-account {index})")
            print(f"\nexport KIEZ_RPC={anvil.rpc_url} KIEZ_COMMUNITY={community.address} KIEZ_DEV_ACCOUNT=0")
            summary = {
                "rpc_url": anvil.rpc_url,
                "chain_id": community.chain_id,
                "community": community.address,
                "founders": [f.address for f in community.founders],
            }
            print(json.dumps(summary), flush=True)
            if not args.no_wait:
                print("running; press Ctrl-C to stop", file=sys.stderr, flush=True)
                signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
                with contextlib.suppress(KeyboardInterrupt):
                    signal.pause()
    except GovernanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
