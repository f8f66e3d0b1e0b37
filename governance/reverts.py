"""Revert data → the typed error it encodes, using the contract's ABI.

A revert arrives as 4 selector bytes and ABI-encoded arguments; ``RevertDecoder`` finds the
class in ``governance.errors`` named after the custom error and fills its typed fields
(addresses checksummed, states as ``ProposalState``). Anything else (a revert string, a panic,
an error that is not ours) becomes ``TransactionFailed`` with what can be said about it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from governance import governor_errors
from governance.abinames import snake_name
from governance.errors import ContractRevert, GovernanceError, RevertContext, TransactionFailed
from governance.types import Address, ProposalState


def revert_classes() -> dict[str, type[ContractRevert]]:
    """Every custom-error class (kiez's and OpenZeppelin's), by the contract's error name."""
    assert governor_errors.__name__  # the import registers the OpenZeppelin errors' classes
    return {cls.__name__: cls for cls in ContractRevert.__subclasses__()}


class RevertDecoder:
    """Turns revert data into the typed error it encodes, using the contract's ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        classes = revert_classes()
        self._by_selector: dict[bytes, tuple[type[ContractRevert], list[dict[str, Any]]]] = {}
        for item in abi:
            if item.get("type") != "error":
                continue
            types = ",".join(i["type"] for i in item["inputs"])
            selector = keccak(text=f"{item['name']}({types})")[:4]
            cls = classes.get(item["name"])
            if cls is not None:
                self._by_selector[selector] = (cls, item["inputs"])

    def decode(self, data: bytes, context: RevertContext | None = None) -> GovernanceError:
        """The error encoded in ``data``; ``TransactionFailed`` for anything not ours."""
        if len(data) < 4:
            return TransactionFailed("the transaction reverted without a reason")
        selector, body = data[:4], data[4:]
        if selector == keccak(text="Error(string)")[:4]:
            (reason,) = abi_decode(["string"], body)
            return TransactionFailed(f"the transaction reverted: {reason}")
        if selector == keccak(text="Panic(uint256)")[:4]:
            (code,) = abi_decode(["uint256"], body)
            return TransactionFailed(f"the contract panicked (code 0x{code:02x}); this is a bug in kiez")
        entry = self._by_selector.get(selector)
        if entry is None:
            return TransactionFailed(f"the transaction reverted with unknown error data 0x{data.hex()}")
        cls, inputs = entry
        values = abi_decode([i["type"] for i in inputs], body)
        kwargs: dict[str, Any] = {}
        declared = {f.name: f for f in fields(cls)}
        for spec, raw in zip(inputs, values, strict=True):
            name = snake_name(spec["name"])
            value: Any = raw
            if spec["type"] == "address":
                value = Address(to_checksum_address(raw))
            elif declared[name].type == "ProposalState":
                value = ProposalState(raw)
            kwargs[name] = value
        return cls(**kwargs, context=context or RevertContext())
