from __future__ import annotations

import pytest

from governance.humanize import format_duration, format_time, parse_bytes32, parse_duration, short_hex


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("3d", 259200),
        ("1w", 604800),
        ("1h30m", 5400),
        ("1d 2h", 93600),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "3x", "1h and then some", "h1", "-5m"])
def test_parse_duration_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration_round_trips_through_parse() -> None:
    for seconds in (1, 59, 60, 61, 3600, 3661, 86400, 3 * 86400 + 5, 365 * 86400):
        assert parse_duration(format_duration(seconds).replace(" ", "")) == seconds


def test_format_time_is_utc_and_drops_zero_seconds() -> None:
    assert format_time(1_796_112_000) == "2026-12-01 08:00 UTC"
    assert format_time(1_796_112_007) == "2026-12-01 08:00:07 UTC"


def test_short_hex() -> None:
    assert short_hex(bytes(range(32))) == "0x0001…1e1f"
    assert short_hex("0xabcd") == "0xabcd"


def test_parse_bytes32() -> None:
    assert parse_bytes32("0x" + "ab" * 32, "post id") == b"\xab" * 32
    assert parse_bytes32("cd" * 32, "post id") == b"\xcd" * 32
    with pytest.raises(ValueError, match="post id must be 32 bytes"):
        parse_bytes32("ab" * 31, "post id")
    with pytest.raises(ValueError, match="64 hex digits"):
        parse_bytes32("zz" * 32, "post id")
