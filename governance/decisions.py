"""A proposal's decision as the contract's call: kind and subject in, calldata out, and back.

The contract is an OpenZeppelin Governor whose proposals are single calls of its own decision
functions (``addMember(address)``, ``changeRules(uint8,uint8,uint32)`` ...). kiez's own vocabulary
stays the (kind, 32-byte subject) pair the CLI, the node and the store already speak; this module
is the one translation between the two, so a proposal made by a generic Governor front end and one
made by ``kiez gov`` read the same.
"""

from __future__ import annotations

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from governance.types import ProposalKind

#: Each kind's decision function and its argument types, as declared in the contract.
FUNCTIONS: dict[ProposalKind, tuple[str, tuple[str, ...]]] = {
    ProposalKind.ADD_MEMBER: ("addMember", ("address",)),
    ProposalKind.REMOVE_MEMBER: ("removeMember", ("address",)),
    ProposalKind.HIDE_POST: ("hidePost", ("bytes32",)),
    ProposalKind.UNHIDE_POST: ("unhidePost", ("bytes32",)),
    ProposalKind.CHANGE_RULES: ("changeRules", ("uint8", "uint8", "uint32")),
    ProposalKind.SET_CHARTER: ("setCharter", ("bytes32",)),
    ProposalKind.GRANT_MODERATOR: ("grantModerator", ("address",)),
    ProposalKind.REVOKE_MODERATOR: ("revokeModerator", ("address",)),
    ProposalKind.SET_MEDIA_POLICY: ("setMediaPolicy", ("uint8", "uint32")),
    ProposalKind.SET_GUEST_POLICY: ("setGuestPolicy", ("uint8", "uint32")),
}

#: Bit offsets of the fields packed in a subject, per kind with several arguments (the packing
#: ``Rules.pack``, ``MediaPolicy.pack`` and ``GuestPolicy.pack`` use).
_PACKING: dict[ProposalKind, tuple[int, ...]] = {
    ProposalKind.CHANGE_RULES: (48, 32, 0),
    ProposalKind.SET_MEDIA_POLICY: (32, 0),
    ProposalKind.SET_GUEST_POLICY: (32, 0),
}
_WIDTHS = {"uint8": 8, "uint32": 32}


def selector(kind: ProposalKind) -> bytes:
    name, types = FUNCTIONS[kind]
    return keccak(text=f"{name}({','.join(types)})")[:4]


_BY_SELECTOR = {selector(kind): kind for kind in FUNCTIONS}


def _arguments(kind: ProposalKind, subject: bytes) -> list[object]:
    _, types = FUNCTIONS[kind]
    if kind in _PACKING:
        value = int.from_bytes(subject, "big")
        return [(value >> shift) & ((1 << _WIDTHS[t]) - 1) for shift, t in zip(_PACKING[kind], types, strict=True)]
    if types == ("address",):
        return [to_checksum_address(subject[-20:])]
    return [subject]


def calldata(kind: ProposalKind, subject: bytes) -> bytes:
    """The call of the contract that carries out ``kind`` about ``subject``."""
    _, types = FUNCTIONS[kind]
    return selector(kind) + abi_encode(list(types), _arguments(kind, subject))


def decode(data: bytes) -> tuple[ProposalKind, bytes] | None:
    """The (kind, subject) a decision call carries out; None for a call that is not one (the
    contract refuses to propose those, so a kiez proposal always decodes)."""
    kind = _BY_SELECTOR.get(bytes(data[:4]))
    if kind is None:
        return None
    _, types = FUNCTIONS[kind]
    try:
        values = abi_decode(list(types), bytes(data[4:]))
    except DecodingError:
        return None
    if kind in _PACKING:
        packed = sum(int(v) << shift for v, shift in zip(values, _PACKING[kind], strict=True))
        return kind, packed.to_bytes(32, "big")
    if types == ("address",):
        return kind, bytes(12) + bytes.fromhex(str(values[0])[2:])
    return kind, bytes(values[0])
