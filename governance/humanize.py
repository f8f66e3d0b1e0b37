"""Turning chain values into words people read, and reading the few they type.

Kept apart from the CLI so error messages (``errors.py``) and the CLI use the same spelling of a
time, a duration or a hash.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")


def format_time(timestamp: int) -> str:
    """``2026-12-01 10:00 UTC`` (seconds shown only when not zero)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    pattern = "%Y-%m-%d %H:%M UTC" if moment.second == 0 else "%Y-%m-%d %H:%M:%S UTC"
    return moment.strftime(pattern)


def format_duration(seconds: int) -> str:
    """``3d``, ``1h 30m``, ``45s``: the largest units first, zeros left out."""
    if seconds <= 0:
        return "0s"
    parts = []
    rest = seconds
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if unit == "w":
            continue
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)


def parse_duration(text: str) -> int:
    """Seconds in ``90``, ``90s``, ``15m``, ``2h``, ``3d``, ``1w`` or combinations like ``1h30m``."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return int(cleaned)
    position = 0
    total = 0
    for match in _DURATION.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        raise ValueError(f"cannot read {text!r} as a duration: use e.g. 90s, 15m, 2h, 3d or 1w")
    return total


def short_hex(value: bytes | str, keep: int = 4) -> str:
    """``0x1234…abcd``: enough to recognise, short enough for a table."""
    text = value if isinstance(value, str) else "0x" + value.hex()
    body = text[2:] if text.startswith("0x") else text
    if len(body) <= 2 * keep + 1:
        return "0x" + body
    return f"0x{body[:keep]}…{body[-keep:]}"


def parse_bytes32(text: str, what: str) -> bytes:
    """A 32-byte value given as 64 hex digits, with or without 0x."""
    body = text.strip().removeprefix("0x").removeprefix("0X")
    try:
        raw = bytes.fromhex(body)
    except ValueError:
        raise ValueError(f"{what} must be 64 hex digits, got {text!r}") from None
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes (64 hex digits), got {len(raw)} bytes")
    return raw
