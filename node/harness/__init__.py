"""The multi-process harness: several real node processes with their own homes on one machine
(``cluster``), used by ``kiez devnet`` (``devnet``), the integration tests and the benchmarks.
Not part of the product: nothing else under ``node/`` imports it."""
