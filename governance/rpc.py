"""Talking to an endpoint: a Web3 with a timeout, transport failures as ``ChainUnavailable``,
checksummed addresses, and what a mined transaction gave back (``TxResult``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import RPCEndpoint

from governance.errors import (
    ChainUnavailable,
    InvalidArgument,
)
from governance.events import Event
from governance.types import (
    Address,
)

E = TypeVar("E", bound=Event)

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
#: eth_getLogs is asked for at most this many blocks at once; public endpoints refuse more.
LOG_RANGE = 5_000
_ZERO32 = bytes(32)


@dataclass(frozen=True)
class TxResult:
    """A mined transaction: its hash, block, gas and the community events it emitted."""

    tx_hash: bytes
    block_number: int
    gas_used: int
    events: list[Event] = field(default_factory=list)

    def first(self, kind: type[E]) -> E:
        for event in self.events:
            if isinstance(event, kind):
                return event
        raise LookupError(f"transaction emitted no {kind.__name__}")


def checksum(value: str) -> Address:
    """A checksummed address, or ``InvalidArgument`` naming the bad input."""
    if not is_address(value):
        raise InvalidArgument(f"{value!r} is not an Ethereum address (0x and 40 hex digits)")
    return Address(to_checksum_address(value))


def connect_web3(rpc_url: str, timeout: float = 10.0) -> Web3:
    """A Web3 over HTTP whose requests give up after ``timeout`` seconds.

    web3 asks the endpoint for its chain id before every transaction-related call; the chain id of
    an endpoint does not change, so that one answer is cached (two round trips fewer per call).
    """
    provider = Web3.HTTPProvider(
        rpc_url,
        request_kwargs={"timeout": timeout},
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
    )
    return Web3(provider)


@contextmanager
def rpc_errors(rpc_url: str) -> Iterator[None]:
    """Turns transport failures into ``ChainUnavailable`` with the endpoint named."""
    try:
        yield
    except requests.exceptions.ConnectionError:
        raise ChainUnavailable(f"cannot reach the chain at {rpc_url}: connection refused or lost") from None
    except requests.exceptions.Timeout:
        raise ChainUnavailable(f"the chain at {rpc_url} did not answer in time") from None
    except requests.exceptions.RequestException as exc:
        raise ChainUnavailable(f"the chain at {rpc_url} failed: {exc}") from None


def revert_data(exc: ContractLogicError) -> bytes:
    data = exc.data
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    return b""


def bytes32(value: bytes, what: str) -> bytes:
    """``value`` if it is 32 bytes long, else ``InvalidArgument`` naming ``what``."""
    if len(value) != 32:
        raise InvalidArgument(f"{what} must be 32 bytes, got {len(value)}")
    return value
