"""The compiled contract, loaded from the JSON artifact committed next to this module.

The artifact is produced by ``scripts/compile_contracts.mjs`` with the pinned solc from npm; a
test recompiles and fails if it is stale, so users of the Python package never need a compiler.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from governance.errors import GovernanceError
from governance.jsontext import BadJson, parse


@dataclass(frozen=True)
class ContractArtifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    solc_version: str


@cache
def community_artifact() -> ContractArtifact:
    """The Community contract. Cached: the file never changes while the process runs."""
    raw = resources.files("governance").joinpath("artifacts/Community.json").read_bytes()
    try:
        data = parse(raw)
        contract = data["contracts"]["Community"]
        return ContractArtifact(
            name="Community",
            abi=contract["abi"],
            bytecode=contract["bytecode"],
            deployed_bytecode=contract["deployedBytecode"],
            solc_version=data["compiler"]["solc"],
        )
    except (BadJson, KeyError, TypeError) as exc:
        raise GovernanceError(
            f"the packaged contract artifact (governance/artifacts/Community.json) is damaged ({exc}): reinstall kiez"
        ) from None
