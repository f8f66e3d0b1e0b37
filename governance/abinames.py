"""Python names for the contract's ABI names, in one place for events and errors alike.

The records in ``events.py`` and the error classes in ``errors.py`` are matched to the ABI by
name, so both must turn ``maxAttachmentKiB`` into the same field name. Plain camelCase splitting
would give ``max_attachment_ki_b``: binary size units (KiB, MiB, GiB) are one word, ``kib``.
"""

from __future__ import annotations

import re

_BINARY_UNIT = re.compile(r"([KMGT])iB")
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def snake_name(abi_name: str) -> str:
    """``proposalId`` → ``proposal_id``, ``oldMaxAttachmentKiB`` → ``old_max_attachment_kib``."""
    words = _BINARY_UNIT.sub(lambda unit: unit.group(1) + "ib", abi_name)
    return _WORD_START.sub("_", words).lower()
