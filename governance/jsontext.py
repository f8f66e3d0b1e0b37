"""JSON from outside (RPC replies, keystores, ballot files, the artifact), parsed without risking
the process.

Python's ``json`` decoder recurses on the C stack and trusts ``sys.getrecursionlimit()``, which
web3's dependency ``py_ecc`` raises to 100,000 on import: a few hundred kilobytes of ``[`` then
overflow the C stack and the process dies with SIGSEGV instead of raising. orjson parses in Rust
with a fixed nesting limit (1,024) and refuses too deep input, invalid UTF-8, lone surrogates and
numbers that overflow a double. (The node has its twin, ``node.core.jsontext``; governance never
imports the node.)
"""

from __future__ import annotations

from typing import Any

import orjson

from governance.errors import GovernanceError

#: orjson's fixed limit on nested arrays and objects; deeper input is refused, never recursed into.
MAX_DEPTH = 1024


class BadJson(GovernanceError):
    """Text that is not JSON governance will read; the message says where it broke."""


def parse(data: bytes | str) -> Any:
    """The JSON value of ``data``, or ``BadJson`` saying what is wrong with it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadJson(f"not valid JSON: {exc}") from None
