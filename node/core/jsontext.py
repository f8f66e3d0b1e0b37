"""JSON from outside (API bodies, replies, files), parsed without risking the process.

Python's own ``json`` decoder recurses on the C stack and trusts ``sys.getrecursionlimit()``;
web3's dependency ``py_ecc`` raises that limit to 100,000 when imported, so a body of a few
hundred kilobytes of ``[`` overflows the C stack and the process dies with SIGSEGV instead of
raising. orjson parses in Rust with a fixed nesting limit (1,024) and raises for too deep input,
invalid UTF-8, lone surrogates and numbers that overflow a double, so every JSON the node reads
from outside goes through ``parse``.
"""

from __future__ import annotations

from typing import Any

import orjson

from node.core.errors import BadJson

__all__ = ["MAX_DEPTH", "BadJson", "parse"]

#: orjson's fixed limit on nested arrays and objects; deeper input is refused, never recursed into.
MAX_DEPTH = 1024


def parse(data: bytes | str) -> Any:
    """The JSON value of ``data``, or ``BadJson`` saying what is wrong with it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadJson(f"not valid JSON: {exc}") from None
