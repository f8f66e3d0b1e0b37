"""What a request may carry: each field's exact type and range, as pydantic types the framework
validates, documents in the OpenAPI schema and refuses with a 400 naming the field.

Reading is strict on purpose: ``true`` is not the number 1, ``{"x": 1}`` is not the string
``"{'x': 1}"``, a time of 10^30 ms is not a time, a string that cannot be written as UTF-8 (a lone
surrogate) is not text, and a query's number is ASCII digits (``int()`` would read "٥" and " 5").
Pydantic's own checks are laxer in places and count characters where the wire counts UTF-8
bytes, so each type checks its value first (a ``BeforeValidator`` raising ``Refused`` with what
the field must be); the ``Field`` constraints beside it are what the schema says, and hold for
every value the check lets through. ``node.api.problems`` turns the errors into one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import GroupedMetadata, Interval, Len
from eth_utils.address import to_checksum_address
from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from node.api.problems import REFUSED, HttpError
from node.core import limits
from node.core.types import MessageId

#: Largest time in milliseconds the API takes: the largest integer JSON readers keep exactly
#: (2^53 - 1, JavaScript's Number), far beyond any real date and inside msgpack's and SQLite's range.
MAX_MS = limits.MAX_TIME_MS

_HEX64 = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
_ROOM = re.compile(r"[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DIGITS = re.compile(r"-?[0-9]{1,19}")
_CURSOR = re.compile(r"([0-9]{1,16}):([0-9a-f]{64})")
HASH_PATTERN = "^(0x)?[0-9a-fA-F]{64}$"


class Refused(PydanticCustomError):
    """A value the field does not take; the message completes "<field> must be …"."""

    def __new__(cls, wanted: str) -> Refused:
        return super().__new__(cls, REFUSED, wanted.replace("{", "{{").replace("}", "}}"))


class Body(BaseModel):
    """A request body: a JSON object with these fields and no others."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Query(BaseModel):
    """A query string with these parameters and no others."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Rule(GroupedMetadata):
    """One field's check (run first, strict, with the field's own words) and what the schema
    says of it (constraints that hold for every value the check lets through)."""

    check: Callable[[Any], Any]
    schema: tuple[Any, ...] = ()

    def __iter__(self) -> Iterator[object]:
        # constraints first: the check then wraps the constrained type (and runs before it), and
        # pydantic's schema keeps each constraint as the type's own (a pattern, a list's maxItems)
        yield from self.schema
        yield BeforeValidator(self.check)


def Text(max_bytes: int, *, blank: bool = False) -> Rule:  # noqa: N802 - read as a type's part
    """A string of at most ``max_bytes`` UTF-8 bytes; not blank (empty or only spaces) unless ``blank``."""
    wanted = f"a {'' if blank else 'non-empty '}string of at most {max_bytes} UTF-8 bytes"

    def check(value: Any) -> str:
        if type(value) is not str:
            raise Refused(wanted)
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise Refused(f"{wanted} (it holds a lone surrogate)") from None
        if size > max_bytes or (not blank and not value.strip()):
            raise Refused(wanted)
        return value

    return Rule(check, (StringConstraints(max_length=max_bytes, pattern=None if blank else r"\S"),))


def Integer(minimum: int, maximum: int, *, query: bool = False) -> Rule:  # noqa: N802
    """A JSON integer (not a boolean, not a float, not a string) in ``minimum..maximum``; in a
    query (``query``), ASCII digits."""
    wanted = f"an integer in {minimum}..{maximum}"

    def check(value: Any) -> int:
        if query and type(value) is str and _DIGITS.fullmatch(value):
            value = int(value)
        if type(value) is not int or not minimum <= value <= maximum:
            raise Refused(wanted)
        return value

    return Rule(check, (Interval(ge=minimum, le=maximum),))


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise Refused("true or false")
    return value


def _query_flag(value: Any) -> bool:
    return _flag({"true": True, "false": False}.get(value, value) if type(value) is str else value)


def Choice(*choices: str) -> Rule:  # noqa: N802
    """One of a few words."""

    def check(value: Any) -> str:
        if type(value) is not str or value not in choices:
            raise Refused(f"{', '.join(choices[:-1])} or {choices[-1]}")
        return value

    return Rule(check, (WithJsonSchema({"enum": list(choices)}),))


def parse_id(value: object, name: str) -> MessageId:
    """A message id (or SHA-256) given as 64 hex digits, with or without 0x (a path's ids)."""
    found = _HEX64.fullmatch(value) if type(value) is str else None
    if found is None:
        raise HttpError(400, f"{name} must be 64 hex digits (32 bytes)")
    return MessageId(bytes.fromhex(found.group(1)))


def _hash(value: Any) -> MessageId:
    found = _HEX64.fullmatch(value) if type(value) is str else None
    if found is None:
        raise Refused("64 hex digits (32 bytes)")
    return MessageId(bytes.fromhex(found.group(1)))


def _nullable_hash(value: Any) -> MessageId | None:
    return None if value is None else _hash(value)


def _room(value: Any) -> str:
    if type(value) is not str or not (value == "" or _ROOM.fullmatch(value)):
        raise Refused('a room id (64 hex digits) or "" for the general room')
    return value.lower()


def _member(value: Any) -> str:
    if type(value) is not str or not _ADDRESS.fullmatch(value):
        raise Refused("an address: 0x and 40 hex digits")
    return str(to_checksum_address(value))


def _cursor(value: Any) -> str:
    found = _CURSOR.fullmatch(value) if type(value) is str else None
    if found is None or int(found.group(1)) > MAX_MS:
        raise Refused("<timestamp_ms>:<id hex> from a previous page's next")
    return str(value)


def cursor_position(cursor: str) -> tuple[int, MessageId]:
    """(timestamp_ms, id) of a checked ``Cursor``."""
    stamp, hex_id = cursor.split(":")
    return int(stamp), MessageId(bytes.fromhex(hex_id))


def Items(min_items: int, max_items: int) -> Rule:  # noqa: N802
    """A list of ``min_items..max_items`` values (each then read by the item's type), as a tuple."""
    wanted = f"a list of {min_items}..{max_items} items"

    def check(value: Any) -> tuple[Any, ...]:
        if type(value) is not list or not min_items <= len(value) <= max_items:
            raise Refused(wanted)
        return tuple(value)

    return Rule(check, (Len(min_items, max_items),))


#: A message id or SHA-256: 64 hex digits, with or without 0x.
Hash = Annotated[bytes, Rule(_hash, (WithJsonSchema({"type": "string", "pattern": HASH_PATTERN}),))]
NullableHash = Annotated[
    bytes | None, Rule(_nullable_hash, (WithJsonSchema({"type": ["string", "null"], "pattern": HASH_PATTERN}),))
]
#: A room's id (64 hex digits, read in lower case) or "" for the community's general room.
RoomRef = Annotated[str, Rule(_room, (StringConstraints(pattern="^([0-9a-fA-F]{64})?$"),))]
#: A member's Ethereum address, 0x and 40 hex digits (read checksummed, as the chain view keeps it).
MemberAddress = Annotated[str, Rule(_member, (StringConstraints(pattern="^0x[0-9a-fA-F]{40}$"),))]
#: ``true`` or ``false``; in a query, the words.
Flag = Annotated[bool, Rule(_flag)]
QueryFlag = Annotated[bool, Rule(_query_flag)]
#: A time in milliseconds since 1970.
Millis = Annotated[int, Integer(0, MAX_MS)]
#: Where a page of a feed starts: ``<timestamp_ms>:<id hex>``, the ``next`` of the page before.
#: Kept as the text (``cursor_position`` reads it): FastAPI takes a tuple-typed query parameter
#: for a repeated one and would hand the check a list.
Cursor = Annotated[str, Rule(_cursor, (StringConstraints(pattern="^[0-9]{1,16}:[0-9a-f]{64}$"),))]
