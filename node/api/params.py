"""Reading a request's JSON parameters: each check says in one sentence what was wrong (400).

Shared by every route module, so every endpoint words the same mistake the same way.
"""

from __future__ import annotations

from typing import Any

from node.api.http import HttpError, Request
from node.core.types import MessageId


def json_object(request: Request) -> dict[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise HttpError(400, "the request body must be a JSON object")
    return data


def text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise HttpError(400, f"{name} must be a non-empty string")
    return value


def parse_id(value: object, name: str) -> MessageId:
    """A message id (or SHA-256) given as 64 hex digits, with or without 0x."""
    if not isinstance(value, str):
        raise HttpError(400, f"{name} must be a hex string")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise HttpError(400, f"{name} must be 64 hex digits") from None
    if len(raw) != 32:
        raise HttpError(400, f"{name} must be 32 bytes (64 hex digits)")
    return MessageId(raw)
