#!/usr/bin/env python3
"""Ingest speed beside the speed of the signature check it contains, in one run.

``verify_per_s``: raw ed25519 verifications per second with the library the node uses (PyNaCl,
libsodium), one thread, over the same signed bytes as the messages below.

``ingest_per_s``: messages per second through the node's real path into its real SQLite store:
``NodeService.ingest_batch`` = strict decode and canonical check, community, duplicate and time
checks, key and membership lookups in the community view, the signature (on two threads: libsodium
releases the interpreter lock), tombstone and erasure checks, then insert in one transaction per
batch of 512. That is the path of sync, and of gossip once messages arrive faster than one per
commit. Messages come from 50 members; rate limiting is a dictionary lookup and is left out
(``Via.SYNC``) so the figure measures the work, not the limit.

``ingest_single_per_s``: the same, one message per transaction with an fsync each (a node taking
messages one at a time, as gossip does at low rates).

The last line printed is one JSON object.
Usage: .venv/bin/python scripts/bench_ingest.py [--messages 30000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from verifyrate import verify_rate

from node.core.signing import Signer
from node.core.types import Community, Kind, PostBody
from node.core.validation import Via
from node.core.view import CommunityView, KeyRecord, MemberRecord
from node.daemon.service import NodeService
from node.store import Store

COMMUNITY = Community(31337, bytes.fromhex("700b6a60ce7eaaea56f065753d8dcb9653dbad35"))
MEMBERS = 50


def messages(count: int, now_ms: int) -> tuple[list[bytes], CommunityView]:
    signers = [Signer(hashlib.sha256(f"member {i}".encode()).digest()) for i in range(MEMBERS)]
    view = CommunityView(chain_time_ms=now_ms)
    for i, signer in enumerate(signers):
        address = f"0x{i:040x}"
        view.members[address] = MemberRecord(address, [(now_ms - 3_600_000, None)])
        view.keys[signer.public_key] = KeyRecord(signer.public_key, address, now_ms - 3_600_000)
    text = "Repair café on Thursday, 18:00 at the corner shop. Bring your broken lamps and radios! "
    envelopes = [
        signers[n % MEMBERS].envelope(COMMUNITY, Kind.POST, PostBody(f"#{n} {text}"), now_ms - 600_000 + n)
        for n in range(count)
    ]
    return envelopes, view


def ingest_rate(envelopes: list[bytes], view: CommunityView, batch: int) -> float:
    with tempfile.TemporaryDirectory(prefix="kiez-bench-ingest-") as tmp:
        store = Store.open(Path(tmp) / "node.db")
        service = NodeService(store, view, Signer(bytes(32)), COMMUNITY)
        started = time.perf_counter()
        stored = 0
        if batch == 1:
            for envelope in envelopes:
                stored += service.ingest(envelope, Via.SYNC).accepted
        else:
            for start in range(0, len(envelopes), batch):
                stored += service.ingest_batch(envelopes[start : start + batch], Via.SYNC).added
        elapsed = time.perf_counter() - started
        store.close()
    if stored != len(envelopes):
        raise SystemExit(f"only {stored} of {len(envelopes)} messages were stored")
    return len(envelopes) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--single", type=int, default=2_000, help="messages for the one-per-commit figure")
    args = parser.parse_args()
    now = int(time.time() * 1000)
    envelopes, view = messages(args.messages, now)
    size = sum(map(len, envelopes)) / len(envelopes)
    print(f"{args.messages:,} posts of {size:.0f} bytes from {MEMBERS} members", file=sys.stderr)
    verify = verify_rate(envelopes)
    ingest = ingest_rate(envelopes, view, batch=512)
    single = ingest_rate(envelopes[: args.single], view, batch=1)
    figures = {
        "messages": args.messages,
        "envelope_bytes": round(size),
        "verify_per_s": round(verify),
        "ingest_per_s": round(ingest),
        "ingest_vs_verify_ratio": round(ingest / verify, 3),
        "ingest_single_per_s": round(single),
    }
    print(f"raw ed25519 verify (PyNaCl, 1 thread): {verify:,.0f}/s")
    print(f"ingest, batches of 512:               {ingest:,.0f}/s  ({ingest / verify:.2f} × verify)")
    print(f"ingest, one message per commit:       {single:,.0f}/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
