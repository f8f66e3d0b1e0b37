"""Resolving what a member typed (``@Dana``) to the members a post mentions, when it is written.

The addresses go into the signed post (spec section 17), so readers never parse names out of
text. A mention is ``@`` followed by a member's display name (the longest one that fits, ignoring
case, ending where a word ends) or by a full address (``@0x`` and 40 hex digits). A name two
members share cannot say whom it means: that is an ``AmbiguousMention`` naming both, and the
writer uses the address instead. ``@`` followed by anything else stays plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from node.core import limits
from node.core.errors import MentionProblem
from node.core.names import short_address

_ADDRESS = re.compile(r"@(0x[0-9a-fA-F]{40})(?![0-9a-zA-Z_])")


def resolve(text: str, names: Mapping[str, str]) -> tuple[str, ...]:
    """The members ``text`` mentions, in order of first mention, as addresses (checksummed, as in
    ``names``' keys: member → display name). Raises ``MentionProblem`` for a shared name or too
    many mentions."""
    by_name: dict[str, list[str]] = {}
    for member, name in names.items():
        by_name.setdefault(name.casefold(), []).append(member)
    found: list[str] = []
    for at in (i for i, c in enumerate(text) if c == "@"):
        named = _address_at(text, at, names) or _name_at(text[at + 1 :].casefold(), by_name)
        if named is not None and named not in found:
            found.append(named)
    if len(found) > limits.MAX_MENTIONS:
        raise MentionProblem(f"a post mentions at most {limits.MAX_MENTIONS} members; this one names {len(found)}")
    return tuple(found)


def _address_at(text: str, at: int, names: Mapping[str, str]) -> str | None:
    match = _ADDRESS.match(text, at)
    if match is None:
        return None
    typed = match.group(1).lower()
    return next((m for m in names if m.lower() == typed), match.group(1))


def _name_at(rest: str, by_name: dict[str, list[str]]) -> str | None:
    """The member whose name starts ``rest`` (the text after an ``@``, case-folded): the longest
    name that ends where a word ends."""
    fitting = [
        name
        for name in by_name
        if rest.startswith(name) and (len(rest) == len(name) or not _word_char(rest[len(name)]))
    ]
    if not fitting:
        return None
    name = max(fitting, key=len)
    members = by_name[name]
    if len(members) > 1:
        who = ", ".join(f"@{m}" for m in sorted(members))
        raise MentionProblem(f"{len(members)} members are called @{name}: mention the one you mean by address ({who})")
    return members[0]


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def shown(members: tuple[str, ...], names: Mapping[str, str]) -> list[str]:
    """The mentioned members as a writer is told them: name, or short address."""
    return [names.get(m) or short_address(m) for m in members]
