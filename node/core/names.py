"""What a member's display name, bio and links may hold, and how names are shown.

Names are not unique and not checked by anyone but the nodes, so the rules guard the two ways a
name can deceive: characters that reorder or hide text (bidi overrides and isolates, zero-width
characters, controls), and a name that reads like a member's address ("0xf39F…2266"), which is
how kiez tells members apart. The character sets are listed here, not read from ``unicodedata``,
so nodes built on other Unicode versions judge every name the same (spec section 16).
"""

from __future__ import annotations

from node.core import limits
from node.core.payloads import BLANK_RANGES

#: Inside a name, the only blank code points allowed: a plain space between words, and the
#: zero-width joiner that emoji sequences are made of (👩‍💻).
_NAME_BLANKS_ALLOWED = frozenset({" ", "\u200d"})
_BLANK = frozenset(chr(c) for low, high in BLANK_RANGES for c in range(low, high + 1))
#: Look-alikes of "0" and "x" (Latin, Greek, Cyrillic, fullwidth, the multiplication sign) and
#: of hex digits (ASCII and fullwidth), for the address rule.
_ZERO_LIKE = frozenset("0Oo\u041e\u043e\u039f\u03bf\uff10\uff2f\uff4f")
_X_LIKE = frozenset("xX\u0445\u0425\u03c7\u03a7\u00d7\uff58\uff38")
_HEX_LIKE = frozenset("0123456789abcdefABCDEF") | frozenset(chr(c) for c in range(0xFF10, 0xFF1A))
_HEX_LIKE |= frozenset(chr(c) for c in (*range(0xFF21, 0xFF27), *range(0xFF41, 0xFF47)))
#: What ends a word before a 0-like character (besides blanks): ASCII punctuation.
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def name_problem(name: str) -> str | None:
    """Why ``name`` may not be a display name (one sentence), or None."""
    if not name or len(name.encode("utf-8")) > limits.MAX_NAME_BYTES:
        return f"a display name is 1 to {limits.MAX_NAME_BYTES} bytes of UTF-8"
    hidden = sorted({f"U+{ord(c):04X}" for c in name if c in _BLANK and c not in _NAME_BLANKS_ALLOWED})
    if hidden:
        return f"a display name may not hold invisible or text-reordering characters ({', '.join(hidden)})"
    if name != name.strip(" ") or "  " in name or name.strip(" \u200d") == "":
        return "a display name has no leading, trailing or double spaces, and is not blank"
    if looks_like_address(name):
        return "a display name may not look like an address (0x followed by hex digits)"
    return None


def looks_like_address(text: str) -> bool:
    """Whether ``text`` holds, at the start of a word, a 0-like and an x-like character followed
    by two hex-like ones: "0x12", "０ｘ9f", "Оx00" with a Cyrillic О; not "Roxanne" or "Oxana"."""
    for at in range(len(text) - 3):
        starts_word = at == 0 or text[at - 1] in _BLANK or text[at - 1] in _PUNCTUATION
        if (
            starts_word
            and text[at] in _ZERO_LIKE
            and text[at + 1] in _X_LIKE
            and text[at + 2] in _HEX_LIKE
            and text[at + 3] in _HEX_LIKE
        ):
            return True
    return False


def text_problem(text: str, field: str, limit: int) -> str | None:
    """Why a bio may not be shown: too long, or holding characters that reorder or hide text
    (line breaks are allowed)."""
    if len(text.encode("utf-8")) > limit:
        return f"{field} is at most {limit} bytes of UTF-8"
    hidden = sorted({f"U+{ord(c):04X}" for c in text if c in _BLANK and c not in _NAME_BLANKS_ALLOWED | {"\n"}})
    if hidden:
        return f"{field} may not hold invisible or text-reordering characters ({', '.join(hidden)})"
    return None


def link_problem(link: str) -> str | None:
    """Why ``link`` may not be a profile link: an http(s) URL without blanks, within the limit."""
    if len(link.encode("utf-8")) > limits.MAX_LINK_BYTES:
        return f"a link is at most {limits.MAX_LINK_BYTES} bytes"
    if not link.startswith(("https://", "http://")) or len(link.split("://", 1)[1]) == 0:
        return "a link starts with https:// or http://"
    if any(c in _BLANK for c in link):
        return "a link holds no spaces or invisible characters"
    return None


def short_address(address: str) -> str:
    """How an address is shown beside a name: 0x90F7…b906."""
    return f"{address[:6]}…{address[-4:]}"


def display_names(names: dict[str, str]) -> dict[str, str]:
    """Each member's name as shown: the name alone where no other member has it (compared
    without case), else the name with the member's short address; ``names`` maps address to name."""
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    return {
        member: name if counts[name.casefold()] == 1 else f"{name} ({short_address(member)})"
        for member, name in names.items()
    }
