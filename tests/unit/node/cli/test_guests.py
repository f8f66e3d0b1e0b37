"""``--until`` of ``kiez guest invite``: a span from now or a date and time, and a clear refusal
of anything else; and how a guest is shown where a member's name would be."""

from __future__ import annotations

import pytest

from node.cli.guests import until_ms
from node.cli.toolkit import InputError
from node.core.guests import guest_author, guest_label

NOW_S = 1_796_112_000.0  # 2026-12-01 08:00 UTC


@pytest.mark.parametrize(
    ("until", "ms"),
    [
        ("3d", (NOW_S + 3 * 86_400) * 1000),
        ("90m", (NOW_S + 90 * 60) * 1000),
        ("2w", (NOW_S + 14 * 86_400) * 1000),
        ("2026-12-04T08:00", (NOW_S + 3 * 86_400) * 1000),  # UTC when no zone is named
        ("2026-12-04T09:00+01:00", (NOW_S + 3 * 86_400) * 1000),
    ],
)
def test_until_takes_a_span_or_a_date(until: str, ms: float) -> None:
    assert until_ms(until, NOW_S) == int(ms)


@pytest.mark.parametrize("until", ["3 days", "tomorrow", "-3d", "3y", ""])
def test_until_refuses_anything_else_saying_what_it_takes(until: str) -> None:
    with pytest.raises(InputError, match="a span"):
        until_ms(until, NOW_S)


def test_a_guest_is_shown_by_its_key_and_its_inviter_never_as_a_member() -> None:
    author = guest_author(bytes.fromhex("1a2b3c4d" + "00" * 28))
    assert guest_label(author, "Dana") == "guest 1a2b3c4d… (invited by Dana)"
    assert guest_label(author, None) == "guest 1a2b3c4d…"
