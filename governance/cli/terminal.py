"""Text that others wrote, made safe for a terminal: the one way ``kiez`` prints.

Posts, names, room topics, poll options, proposal descriptions and vote reasons come from other
people (or a chain endpoint), and a terminal obeys control sequences inside text: an escape can
move the cursor, clear the screen, set the window title or write the clipboard (OSC 52); a
carriage return or a bidi override can make one line read as another. So every line ``kiez``
prints for people passes ``printable``, which shows each such character as a visible escape
(``\\x1b``, ``\\r``, ``\\u202e``) instead of sending it, and JSON for scripts passes
``json_safe``, which writes them as JSON ``\\u`` escapes (the same value, read back).

Both CLIs print through ``echo`` and ``echo_json``, and their command groups are
``SafeGroup``, whose errors are made printable too; this lives in ``governance.cli`` because
governance never imports the node, while the node's CLI may use it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import click

#: Format characters (category Cf) that stay: emoji sequences (👩‍👧) and several scripts need
#: the zero-width joiner and non-joiner, and neither moves or reorders anything.
_JOINERS = frozenset("\u200c\u200d")
#: Everything outside printable ASCII is examined; plain ASCII text takes the fast path.
_CANDIDATE = re.compile(r"[^\x20-\x7e]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def unsafe(char: str) -> bool:
    """Whether a terminal may act on ``char`` rather than show it: C0 and C1 controls, DEL,
    format characters such as the bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069)
    and zero-width marks, line and paragraph separators, and lone surrogates."""
    category = unicodedata.category(char)
    if category == "Cf":
        return char not in _JOINERS
    return category in {"Cc", "Cs", "Zl", "Zp"}


def _visible(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` with every character a terminal could act on shown as a visible escape.

    Line feeds and tabs stay when ``newlines`` (the layout of a whole output or a post's
    paragraphs); a carriage return never does, so no line can overwrite another. Give
    ``newlines=False`` for a one-line field (a name, a topic, a poll option, a reason)."""

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if newlines and char in "\n\t":
            return char
        return _visible(char) if unsafe(char) else char

    return _CANDIDATE.sub(replace, text)


def inline(value: object) -> str:
    """A one-line field written by someone else: ``printable`` with line breaks escaped too."""
    return printable(str(value), newlines=False)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n" or not unsafe(char):
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_safe(text: str) -> str:
    """JSON text with every character a terminal could act on written as a ``\\u`` escape.

    Raw, such characters can only stand inside strings (JSON's own syntax is ASCII and its
    layout only line feeds and spaces), where the escape means the same character: the value a
    script reads back is unchanged."""
    return _CANDIDATE.sub(_json_escape, text)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Prints text for people (``printable``): the only way the CLIs print it."""
    click.echo(printable(text), err=err, nl=nl)


def echo_json(text: str) -> None:
    """Prints JSON text for scripts (``json_safe``)."""
    click.echo(json_safe(text))


class SafeGroup(click.Group):
    """A command group whose errors are printable: a refusal may quote what others wrote (a
    room's name, an endpoint's answer), and click prints the message as it is."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError:
            raise  # it quotes what the member typed, and shows the usage with it
        except click.ClickException as exc:
            raise click.ClickException(printable(exc.format_message())) from None
