"""A bare kiez host as its own process, with a file-descriptor limit of its own.

    python host_process.py --spare-fds N

It starts the host, then lowers its soft RLIMIT_NOFILE to the descriptors it has open plus ``N``,
prints {"event": "listening", "addrs": [...]} on stdout, and runs until stdin reaches EOF. Logs
(py-libp2p's and trio's, e.g. an accept that failed with EMFILE) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys

import trio

from node.p2p import open_host


async def wait_for_eof() -> None:
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with stdin:
        while await stdin.receive_some():
            pass


async def main(spare_fds: int) -> None:
    async with open_host(os.urandom(32)) as host:
        stdin_fds = 1  # wait_for_eof's duplicate of stdin
        limit = len(os.listdir("/proc/self/fd")) + stdin_fds + spare_fds
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        sys.stdout.write(json.dumps({"event": "listening", "addrs": host.addrs}) + "\n")
        sys.stdout.flush()
        await wait_for_eof()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spare-fds", type=int, required=True)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    trio.run(main, parser.parse_args().spare_fds)
