"""A deployment that the contract would refuse is refused before anything is sent, with why."""

from __future__ import annotations

from typing import Any, cast

import pytest

from governance.client import MAX_NAME_BYTES, deploy_community
from governance.errors import InvalidArgument
from governance.types import Rules


def test_a_name_too_long_for_the_signing_domain_is_refused_with_its_length() -> None:
    name = "Fahrradwerkstatt Kiez am Landwehrkanal"  # 38 bytes
    assert len(name.encode()) > MAX_NAME_BYTES
    with pytest.raises(InvalidArgument, match=r"at most 31 bytes .* has 38"):
        deploy_community(cast(Any, None), cast(Any, None), name, ["0x" + "11" * 20], rules=Rules(50, 50, 3600))
