"""What every part of the gossip benchmark uses: its output, the clock and the message size."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGE_BYTES = 1024


def now_ms() -> int:
    return int(time.time() * 1000)


def say(line: str) -> None:
    print(line, flush=True)
