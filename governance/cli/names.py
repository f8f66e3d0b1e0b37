"""Members' display names for ``kiez gov`` listings, lent by the program that embeds it.

Names are signed profiles the member's node keeps; governance reads only the chain, so it cannot
know them itself. A host program (the ``kiez`` command) puts a lookup into the click context's
``meta`` under ``NAMES_KEY``; without one, or when the lookup knows nobody, listings show
addresses alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import click

NAMES_KEY = "kiez.names"

#: Given a community's address, each member address (checksummed) mapped to the name shown for it.
NameLookup = Callable[[str], Mapping[str, str]]


def names_for(community: str) -> Mapping[str, str]:
    """The names the host program knows for ``community``'s members (none if it lent no lookup)."""
    context = click.get_current_context(silent=True)
    lookup: NameLookup | None = None if context is None else context.meta.get(NAMES_KEY)
    return {} if lookup is None else lookup(community)
