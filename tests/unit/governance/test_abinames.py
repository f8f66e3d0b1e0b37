from __future__ import annotations

import pytest

from governance.abinames import snake_name


@pytest.mark.parametrize(
    ("abi_name", "python_name"),
    [
        ("proposalId", "proposal_id"),
        ("s", "s"),
        ("oldQuorumPct", "old_quorum_pct"),
        ("maxAttachmentKiB", "max_attachment_kib"),
        ("newMaxAttachmentKiB", "new_max_attachment_kib"),
        ("sizeMiB", "size_mib"),
    ],
)
def test_snake_name_keeps_binary_units_whole(abi_name: str, python_name: str) -> None:
    assert snake_name(abi_name) == python_name
