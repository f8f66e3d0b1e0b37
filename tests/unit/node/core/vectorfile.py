"""What every vector generator shares: the JSON form of a vectors document, and ``--write``.

Each published vector file is produced by one generator module in this package and checked by
its unit test in two ways: the implementation agrees with every vector, and the committed file is
byte for byte what the generator makes now (so a change in behaviour cannot pass unnoticed, and
the file is only ever rewritten on purpose, with ``python -m <generator> --write``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[4] / "node" / "spec"


def hexed(value: bytes) -> str:
    return "0x" + value.hex()


def unhexed(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def stale_message(path: Path, module: str) -> str:
    return f"node/spec/{path.name} is stale: python -m {module} --write"


def main(path: Path, make: Callable[[], str]) -> None:
    """``--write`` rewrites ``path``; without it the document goes to stdout (to diff by eye)."""
    if "--write" in sys.argv:
        path.write_text(make(), encoding="utf-8")
        print(f"wrote {path}")
    else:
        sys.stdout.write(make())
