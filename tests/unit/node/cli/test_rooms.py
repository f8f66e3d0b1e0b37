"""The pure helpers of the room, event and poll commands: times, options, the poll display."""

from __future__ import annotations

import pytest

from node.cli.rooms import parse_time, pick_option, render_poll
from node.cli.toolkit import InputError

NOW = 1_800_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+90m", NOW + 90 * 60_000),
        ("+2h", NOW + 2 * 3_600_000),
        ("+3d", NOW + 3 * 86_400_000),
        ("+1w", NOW + 7 * 86_400_000),
        ("2026-12-05 18:00", 1_796_493_600_000),  # UTC, as every command prints times
        ("2026-12-05T18:00+01:00", 1_796_490_000_000),
    ],
)
def test_times_are_absolute_in_utc_or_relative_to_now(text: str, expected: int) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["soon", "+2y", "2026-13-01", "tomorrow 18:00", "+-1h"])
def test_unreadable_times_say_how_to_write_them(text: str) -> None:
    with pytest.raises(InputError, match="use '2026-12-05 18:00' or '\\+2h'"):
        parse_time(text, NOW)


def test_an_option_is_named_by_its_number_from_one_or_its_text() -> None:
    options = ["Saturday", "Sunday", "1"]
    assert pick_option(options, "2") == 1
    assert pick_option(options, "sunday") == 1
    assert pick_option(options, "3") == 2  # numbers come first: "3" is the third option
    with pytest.raises(InputError, match=r"1\) Saturday, 2\) Sunday, 3\) 1"):
        pick_option(options, "Monday")
    with pytest.raises(InputError):
        pick_option(options, "4")


def test_a_poll_shows_its_state_and_bars() -> None:
    poll = {"id": "ab" * 32, "question": "Which day?", "options": ["Sat", "Sunday"], "closes_ms": NOW, "tally": [1, 3]}
    shown = render_poll(poll, NOW - 1)
    assert shown.splitlines() == [
        "Which day?  [abababababab]  open until 2027-01-15 08:00:00, 4 answers",
        "  1) Sat       1  █████",
        "  2) Sunday    3  ███████████████",
    ]
    assert "closed 2027-01-15 08:00:00, 1 answer" in render_poll({**poll, "tally": [0, 1]}, NOW)
