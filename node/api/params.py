"""What a request may carry, declared per route: each field's exact type and range, read strictly.

A route lists its body's fields and its query parameters (``Route.fields``, ``Route.query``); the
router reads them before the handler runs, so a handler only ever sees values of the declared type
and range. Reading is strict on purpose: ``true`` is not the number 1, ``{"x": 1}`` is not the
string ``"{'x': 1}"``, a time of 10^30 ms is not a time, and a string that cannot be written as
UTF-8 (a lone surrogate) is not text. Each refusal is a 400 naming the field, worded the same on
every route. The same declarations give the OpenAPI schemas (a test compares them with
``openapi.json``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any, NoReturn

from eth_utils.address import to_checksum_address

from node.api.http import HttpError, Request
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


def _refuse(name: str, wanted: str) -> NoReturn:
    raise HttpError(400, f"{name} must be {wanted}")


@dataclass(frozen=True)
class Field:
    """One named value of a body or a query: ``read`` a JSON value, ``read_query`` a query string."""

    name: str
    _: KW_ONLY
    required: bool = False
    default: Any = None

    def read(self, value: object) -> Any:
        raise NotImplementedError

    def read_query(self, raw: str) -> Any:
        return self.read(raw)

    def schema(self) -> dict[str, Any]:
        """The field's JSON schema, as ``openapi.json`` documents it (descriptions aside)."""
        raise NotImplementedError

    def _with_default(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.required or self.default is None:
            return schema
        return {**schema, "default": list(self.default) if isinstance(self.default, tuple) else self.default}


@dataclass(frozen=True, kw_only=True)
class Text(Field):
    """A string of at most ``max_bytes`` UTF-8 bytes; not blank (empty or only spaces) unless ``blank``."""

    max_bytes: int = 0
    blank: bool = False

    def read(self, value: object) -> str:
        wanted = f"a {'' if self.blank else 'non-empty '}string of at most {self.max_bytes} UTF-8 bytes"
        if type(value) is not str:
            _refuse(self.name, wanted)
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            _refuse(self.name, f"{wanted} (it holds a lone surrogate)")
        if size > self.max_bytes or (not self.blank and not value.strip()):
            _refuse(self.name, wanted)
        return value

    def schema(self) -> dict[str, Any]:
        shape: dict[str, Any] = {"type": "string", "maxLength": self.max_bytes}
        return self._with_default(shape if self.blank else {**shape, "pattern": r"\S"})


@dataclass(frozen=True, kw_only=True)
class Integer(Field):
    """A JSON integer (not a boolean, not a float) in ``minimum..maximum``."""

    minimum: int = 0
    maximum: int = 0

    def read(self, value: object) -> int:
        if type(value) is not int or not self.minimum <= value <= self.maximum:
            _refuse(self.name, f"an integer in {self.minimum}..{self.maximum}")
        return value

    def read_query(self, raw: str) -> int:
        if not _DIGITS.fullmatch(raw):
            _refuse(self.name, f"an integer in {self.minimum}..{self.maximum}")
        return self.read(int(raw))

    def schema(self) -> dict[str, Any]:
        return self._with_default({"type": "integer", "minimum": self.minimum, "maximum": self.maximum})


def millis(name: str, *, required: bool = True) -> Integer:
    """A time in milliseconds since 1970."""
    return Integer(name, required=required, minimum=0, maximum=MAX_MS)


@dataclass(frozen=True, kw_only=True)
class Flag(Field):
    """``true`` or ``false`` (in a query: the words)."""

    def read(self, value: object) -> bool:
        if type(value) is not bool:
            _refuse(self.name, "true or false")
        return value

    def read_query(self, raw: str) -> bool:
        return self.read({"true": True, "false": False}.get(raw, raw))

    def schema(self) -> dict[str, Any]:
        return self._with_default({"type": "boolean"})


@dataclass(frozen=True, kw_only=True)
class Choice(Field):
    """One of a few words."""

    choices: tuple[str, ...] = ()

    def read(self, value: object) -> str:
        if type(value) is not str or value not in self.choices:
            _refuse(self.name, f"{', '.join(self.choices[:-1])} or {self.choices[-1]}")
        return value

    def schema(self) -> dict[str, Any]:
        return self._with_default({"enum": list(self.choices)})


@dataclass(frozen=True, kw_only=True)
class Hash(Field):
    """A message id or SHA-256: 64 hex digits, with or without 0x (null too, if ``nullable``)."""

    nullable: bool = False

    def read(self, value: object) -> MessageId | None:
        if value is None and self.nullable:
            return None
        return parse_id(value, self.name)

    def schema(self) -> dict[str, Any]:
        kind: str | list[str] = ["string", "null"] if self.nullable else "string"
        return self._with_default({"type": kind, "pattern": "^(0x)?[0-9a-fA-F]{64}$"})


@dataclass(frozen=True, kw_only=True)
class RoomRef(Field):
    """A room's id (64 hex digits, read in lower case) or "" for the community's general room."""

    def read(self, value: object) -> str:
        if type(value) is not str or not (value == "" or _ROOM.fullmatch(value)):
            _refuse(self.name, 'a room id (64 hex digits) or "" for the general room')
        return value.lower()

    def schema(self) -> dict[str, Any]:
        return self._with_default({"type": "string", "pattern": "^([0-9a-fA-F]{64})?$"})


@dataclass(frozen=True, kw_only=True)
class Member(Field):
    """A member's Ethereum address, 0x and 40 hex digits (read checksummed, as the chain view keeps it)."""

    def read(self, value: object) -> str:
        if type(value) is not str or not _ADDRESS.fullmatch(value):
            _refuse(self.name, "an address: 0x and 40 hex digits")
        return str(to_checksum_address(value))

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}


@dataclass(frozen=True, kw_only=True)
class Items(Field):
    """A list of ``min_items..max_items`` values, each read by ``item``; a tuple."""

    item: Field | None = None
    min_items: int = 0
    max_items: int = 0

    def read(self, value: object) -> tuple[Any, ...]:
        if type(value) is not list or not self.min_items <= len(value) <= self.max_items:
            _refuse(self.name, f"a list of {self.min_items}..{self.max_items} items")
        assert self.item is not None
        return tuple(replace(self.item, name=f"{self.name}[{i}]").read(v) for i, v in enumerate(value))

    def schema(self) -> dict[str, Any]:
        assert self.item is not None
        shape = {"type": "array", "items": self.item.schema(), "minItems": self.min_items, "maxItems": self.max_items}
        return self._with_default(shape)


@dataclass(frozen=True, kw_only=True)
class Cursor(Field):
    """Where a page of a feed starts: ``<timestamp_ms>:<id hex>``, the ``next`` of the page before."""

    def read(self, value: object) -> tuple[int, MessageId]:
        found = _CURSOR.fullmatch(value) if type(value) is str else None
        if found is None or int(found.group(1)) > MAX_MS:
            _refuse(self.name, "<timestamp_ms>:<id hex> from a previous page's next")
        return int(found.group(1)), MessageId(bytes.fromhex(found.group(2)))

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[0-9]{1,16}:[0-9a-f]{64}$"}


class Fields:
    """The fields of a body or a query: read all at once, unknown names refused, defaults filled in."""

    def __init__(self, *fields: Field) -> None:
        self.fields = {f.name: f for f in fields}

    def read(self, given: Mapping[str, Any], *, query: bool = False) -> dict[str, Any]:
        unknown = sorted(set(given) - set(self.fields))
        if unknown:
            known = ", ".join(self.fields) or "nothing"
            raise HttpError(400, f"unknown {'parameter' if query else 'field'} {unknown[0]!r} (this takes {known})")
        values: dict[str, Any] = {}
        for name, field in self.fields.items():
            if name in given:
                values[name] = field.read_query(given[name]) if query else field.read(given[name])
            elif field.required:
                raise HttpError(400, f"{name} is required")
            else:
                values[name] = field.default
        return values

    def body_schema(self) -> dict[str, Any]:
        """The JSON schema of a body with these fields."""
        required = [name for name, field in self.fields.items() if field.required]
        properties = {name: field.schema() for name, field in self.fields.items()}
        return {"type": "object", **({"required": required} if required else {}), "properties": properties}

    def parameters(self) -> list[dict[str, Any]]:
        """The OpenAPI query parameters of a query with these fields."""
        return [
            {"name": name, "in": "query", "required": field.required, "schema": field.schema()}
            for name, field in self.fields.items()
        ]


NO_FIELDS = Fields()


def json_object(request: Request) -> dict[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise HttpError(400, "the request body must be a JSON object")
    return data


def parse_id(value: object, name: str) -> MessageId:
    """A message id (or SHA-256) given as 64 hex digits, with or without 0x."""
    found = _HEX64.fullmatch(value) if type(value) is str else None
    if found is None:
        _refuse(name, "64 hex digits (32 bytes)")
    return MessageId(bytes.fromhex(found.group(1)))
