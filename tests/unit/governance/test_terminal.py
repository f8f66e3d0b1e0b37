"""What others wrote reaches a terminal shown, never obeyed: controls, escapes, bidi overrides."""

from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner

from governance.cli.terminal import SafeGroup, inline, json_safe, printable

# What a terminal would act on, written down independently of the module: C0 but line feed and
# tab, DEL, C1, the bidi marks, embeddings, overrides and isolates, zero-width and invisible
# format characters, line and paragraph separators, the BOM, tag characters, lone surrogates.
OBEYED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f\ud800-\udfff]"
)

ATTACKS = {
    "window title (OSC 0)": "\x1b]0;you have been pwned\x07",
    "clipboard write (OSC 52)": "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07",
    "carriage return overwrite": "harmless\rmalicious",
    "clear screen (CSI)": "\x1b[2J\x1b[H",
    "right-to-left override": "invoice\u202efdp.exe",
    "C1 CSI": "\x9b31mred",
    "bidi isolate": "\u2066hidden\u2069",
    "line separator": "one\u2028two",
    "lone surrogate": "\ud800",
    "tag characters": "\U000e0069\U000e0067\U000e006e",
    "backspace": "abc\x08\x08\x08xyz",
    "DEL": "a\x7fb",
}


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
def test_nothing_a_terminal_obeys_survives(text: str) -> None:
    for shown in (printable(text), inline(text)):
        assert not OBEYED.search(shown), repr(shown)
        shown.encode("utf-8")  # a lone surrogate would make the echo itself fail


def test_escapes_are_visible_and_readable() -> None:
    assert printable("\x1b]0;title\x07") == "\\x1b]0;title\\x07"
    assert printable("a\rb") == "a\\rb"
    assert printable("\x9b2J") == "\\x9b2J"
    assert printable("x\u202ey") == "x\\u202ey"
    assert printable("\U000e0041") == "\\U000e0041"


def test_layout_survives_where_it_may() -> None:
    assert printable("line one\n\tline two") == "line one\n\tline two"
    assert inline("line one\n\tline two") == "line one\\n\\tline two"
    assert inline(42) == "42"


@pytest.mark.parametrize(
    "text",
    ["Straßenfest am Kanal", "Привет", "שלום עולם", "مرحبا", "你好", "👩‍👩‍👧 family", "👍🏽", "🏳️‍🌈", "e\u0301"],
)
def test_ordinary_writing_is_untouched(text: str) -> None:
    assert printable(text) == text
    assert inline(text) == text


def test_every_code_point_below_u3000_is_shown_or_escaped() -> None:
    every = "".join(chr(c) for c in range(0x3000) if not 0xD800 <= c <= 0xDFFF)
    assert not OBEYED.search(inline(every))
    assert set(printable(every)) & {"\n", "\t"} == {"\n", "\t"}


def test_json_keeps_its_value_and_loses_the_controls() -> None:
    value = {"text": "".join(ATTACKS.values()).replace("\ud800", ""), "n": [1, "Straße", "👩‍👧"]}
    for ensure_ascii in (True, False):
        raw = json.dumps(value, indent=2, ensure_ascii=ensure_ascii)
        safe = json_safe(raw)
        assert json.loads(safe) == value
        assert not OBEYED.search(safe.replace("\n", " "))
    assert json_safe(json.dumps("Straße", ensure_ascii=False)) == '"Straße"'
    assert json_safe('"\U000e0041"') == '"\\udb40\\udc41"'


def test_errors_of_a_safe_group_are_printable() -> None:
    @click.group(cls=SafeGroup)
    def group() -> None:
        pass

    @group.command()
    def fail() -> None:
        raise click.ClickException("no room named \x1b]0;pwned\x07 here")

    result = CliRunner().invoke(group, ["fail"])
    assert result.exit_code == 1
    assert "no room named \\x1b]0;pwned\\x07 here" in result.output
    assert "\x1b" not in result.output
    usage = CliRunner().invoke(group, ["fail", "--nope"])
    assert usage.exit_code == 2
    assert "Usage: group fail" in usage.output
