"""Raw ed25519 verifications per second, the yardstick the ingest and sync benchmarks compare with.

Uses the library the node uses (PyNaCl over libsodium) on the same signed bytes as the messages
measured. On several threads the figure is what the machine's cores can verify at best, since
libsodium releases the interpreter lock while it checks a signature.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from nacl.signing import VerifyKey

from node.core.encoding import decode
from node.core.signing import DOMAIN


def verify_rate(envelopes: list[bytes], threads: int = 1) -> float:
    """Verifications per second of the envelopes' signatures on ``threads`` threads."""
    decoded = [decode(e) for e in envelopes]
    checks = [(VerifyKey(m.author), DOMAIN + m.signed, m.signature) for m in decoded]
    shares = [checks[i::threads] for i in range(threads)]

    def run(share: list[tuple[VerifyKey, bytes, bytes]]) -> None:
        for key, data, signature in share:
            key.verify(data, signature)

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        list(pool.map(run, shares))
        return len(checks) / (time.perf_counter() - started)
