"""What a display name, bio and link may hold, and how equal names are told apart."""

from __future__ import annotations

import pytest

from node.core.names import display_names, link_problem, looks_like_address, name_problem, text_problem

DANA_1 = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
DANA_2 = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


@pytest.mark.parametrize("name", ["Dana", "Ana María", "Alice 👩\u200d🌾", "李雷", "Roxanne", "Oxana", "Max 0", "x0x1"])
def test_ordinary_names_are_taken(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "1 to 64 bytes"),
        ("ä" * 33, "1 to 64 bytes"),
        ("Alice\u202e9662", "U+202E"),  # right-to-left override
        ("Al\u2066ice", "U+2066"),  # left-to-right isolate
        ("Al\u200bice", "U+200B"),  # zero-width space
        ("Alice\u00a0B", "U+00A0"),  # no-break space
        ("Tab\there", "U+0009"),
        (" Alice", "leading, trailing or double spaces"),
        ("Alice  B", "leading, trailing or double spaces"),
        ("\u200d", "not blank"),
        ("0x90F7…b906", "look like an address"),
        ("Dana (0x90F7…b906)", "look like an address"),
        ("\u041ex90F7", "look like an address"),  # a Cyrillic О
        ("０ｘ９f", "look like an address"),  # fullwidth
        ("0×ab", "look like an address"),  # the multiplication sign
    ],
)
def test_names_that_hide_reorder_or_pose_as_an_address_are_refused(name: str, words: str) -> None:
    problem = name_problem(name)
    assert problem is not None
    assert words in problem


def test_an_address_at_the_start_of_a_word_only() -> None:
    assert looks_like_address("my-0x12")
    assert not looks_like_address("box12")
    assert not looks_like_address("0x1")


def test_a_bio_may_break_lines_but_not_reorder_them() -> None:
    assert text_problem("Gardener.\nBees too.", "a bio", 280) is None
    assert "U+202E" in str(text_problem("bee\u202ekeeper", "a bio", 280))
    assert "at most 280 bytes" in str(text_problem("b" * 281, "a bio", 280))


@pytest.mark.parametrize(
    ("link", "words"),
    [
        ("https://example.org/dana", None),
        ("javascript:alert(1)", "https://"),
        ("https://", "https://"),
        ("https://exa mple.org", "no spaces"),
        ("https://" + "a" * 200, "at most 200 bytes"),
    ],
)
def test_links_are_plain_http_urls(link: str, words: str | None) -> None:
    problem = link_problem(link)
    assert problem is None if words is None else words in str(problem)


def test_equal_names_are_shown_with_the_members_short_addresses() -> None:
    shown = display_names({DANA_1: "Dana", DANA_2: "dana", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266": "Alice"})
    assert shown[DANA_1] == "Dana (0x90F7…b906)"
    assert shown[DANA_2] == "dana (0x15d3…6A65)"
    assert shown["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"] == "Alice"
