"""Names instead of addresses in every answer that names a person.

Names are not unique, so where two current members share one (ignoring case) both are shown
with their short address, "Dana (0x90F7…b906)"; a member without a profile is shown by the
short address alone (``node.core.names``), and a guest as "guest 1a2b3c4d… (invited by Dana)".
Routes pass their answer through ``Names.label``, which puts ``<field>_name`` beside each
person's address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node.core.guests import guest_author, guest_label, is_guest
from node.core.names import display_names, short_address
from node.daemon.service import NodeService


@dataclass
class Names:
    """Current members' names as shown; computed per answer from the store (one small query)."""

    service: NodeService

    def given(self) -> dict[str, str]:
        """Current members' display names as they set them (member → name)."""
        view = self.service.view
        return {p.member: p.name for p in self.service.store.profiles.all() if view.is_member(p.member)}

    def shown(self) -> dict[str, str]:
        return display_names(self.given())

    def namer(self) -> Callable[[str | None], str]:
        """A function from address (or a guest's ``guest:<key>``) to shown name, for one answer."""
        shown = self.shown()

        def member_name(member: str) -> str:
            return shown.get(member) or short_address(member)

        inviters: dict[str, str] = {}
        for guest in self.service.store.guests.listing(0, include_past=True):  # newest first
            inviters.setdefault(guest_author(guest.guest), guest.inviter)

        def name(person: str | None) -> str:
            if person is None:
                return "unknown"
            if is_guest(person):
                inviter = inviters.get(person)
                return guest_label(person, None if inviter is None else member_name(inviter))
            return member_name(person)

        return name

    def label(self, data: dict[str, Any]) -> dict[str, Any]:
        """An answer with ``<field>_name`` beside each person's address (``PERSON_FIELDS``)."""
        named: dict[str, Any] = label(data, self.namer())
        return named


#: The fields of an answer that name a person by address; each gets a ``<field>_name`` beside it.
PERSON_FIELDS = frozenset(
    {"author", "proposer", "member", "applicant", "creator", "me", "voter", "address", "actor", "inviter", "guest"}
)


def label(data: Any, namer: Callable[[str | None], str]) -> Any:
    """``data`` (an answer's JSON) with the shown name beside every address of a person."""
    if isinstance(data, list):
        return [label(item, namer) for item in data]
    if not isinstance(data, dict):
        return data
    named = {key: label(value, namer) for key, value in data.items()}
    for key, value in data.items():
        if key in PERSON_FIELDS and isinstance(value, str) and (_is_address(value) or is_guest(value)):
            named[f"{key}_name"] = namer(value)
    return named


def _is_address(value: str) -> bool:
    return len(value) == 42 and value.startswith("0x") and all(c in "0123456789abcdefABCDEF" for c in value[2:])
