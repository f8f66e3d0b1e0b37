"""Talking to an endpoint: a Web3 whose provider reads replies defensively, transport failures
as ``ChainUnavailable``, checksummed addresses, and what a mined transaction gave back
(``TxResult``).

An endpoint is outside kiez's control (a public provider, a proxy, a broken or hostile server),
so ``EndpointProvider`` trusts nothing it sends: a reply longer than ``MAX_REPLY_BYTES`` is cut
off unread (``ReplyTooLarge``), a reply that takes longer than the timeout in total is abandoned
(a server dribbling bytes would otherwise hold a worker forever), replies are parsed by orjson
(web3's ``json`` decoder segfaults on deep nesting once py_ecc has raised the recursion limit,
``governance.jsontext``), and anything that is not a JSON-RPC 2.0 reply is ``BadReply``. All of
it holds for single requests and for batches, which web3 sends down another path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import requests
from eth_typing import URI
from eth_utils.address import is_address, to_checksum_address
from web3 import HTTPProvider, Web3
from web3._utils.http_session_manager import HTTPSessionManager
from web3.exceptions import ContractLogicError
from web3.types import RPCEndpoint, RPCResponse

from governance.errors import (
    BadReply,
    ChainUnavailable,
    InvalidArgument,
    ReplyTooLarge,
)
from governance.events import Event
from governance.jsontext import BadJson, parse
from governance.types import (
    Address,
)

E = TypeVar("E", bound=Event)

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
#: eth_getLogs is asked for at most this many blocks at once; public endpoints refuse more.
LOG_RANGE = 5_000
MIB = 1 << 20
#: The longest reply read. The largest replies kiez asks for are eth_getLogs of one contract over
#: a range (at most ``LOG_RANGE`` blocks; the node's watcher asks for 2,000): public endpoints
#: cap such a reply at 10,000 logs, about 10 MiB for the contract's events, and 32 MiB leaves
#: room for long proposal descriptions. A longer reply is refused unread, and the watcher asks
#: again for half the range.
MAX_REPLY_BYTES = 32 * MIB
#: How long a chain id answer is remembered (``EndpointProvider``).
CHAIN_ID_TTL_S = 30.0
_ZERO32 = bytes(32)


#: Gas added to an estimate. A membership change records a checkpoint of the electorate; in the
#: second of the last change that rewrites a slot, in a later second it fills a fresh one (about
#: 22k gas more). An estimate made in the same second as the last change and mined in the next one
#: would run out of gas without this margin.
GAS_MARGIN = 40_000


def gas_limit(estimate: int) -> int:
    """The gas limit to send with a call estimated at ``estimate``."""
    return estimate * 5 // 4 + GAS_MARGIN


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
    """A Web3 over ``EndpointProvider``: each request gives up after ``timeout`` seconds."""
    return Web3(EndpointProvider(rpc_url, timeout))


class _CappedSessions(HTTPSessionManager):
    """web3's HTTP session manager, reading each reply as a stream: at most ``max_bytes`` of
    it, within ``timeout`` seconds in total (requests' own timeout bounds each read only)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes

    def make_post_request(self, endpoint_uri: URI, data: bytes | dict[str, Any], **kwargs: Any) -> bytes:
        timeout = float(kwargs.setdefault("timeout", 10.0))
        kwargs["stream"] = True
        deadline = time.monotonic() + timeout
        with self.get_response_from_post_request(endpoint_uri, data=data, **kwargs) as response:
            response.raise_for_status()
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_large(endpoint_uri)
            body = bytearray()
            for chunk in response.iter_content(chunk_size=1 << 16):
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_large(endpoint_uri)
                if time.monotonic() > deadline:
                    raise requests.exceptions.Timeout(f"the reply took more than {timeout:.0f} s")
        return bytes(body)

    def _too_large(self, endpoint_uri: URI) -> ReplyTooLarge:
        return ReplyTooLarge(
            f"reply too large: the chain at {endpoint_uri} sent more than {self.max_bytes // MIB} MiB "
            "for one request, more than kiez reads"
        )


class EndpointProvider(HTTPProvider):
    """web3's HTTP provider, reading replies defensively (see the module's docstring).

    web3 asks for the chain id before every call that takes a transaction (eth_call, gas
    estimates, sending); this provider remembers a valid answer for ``CHAIN_ID_TTL_S`` seconds
    rather than asking each time, and never longer: an endpoint can change its chain (a proxy
    re-pointed, a hostile server), and a wrong id cached forever would sign every later
    transaction for the wrong chain. Who must know the chain id *now* (the node's watcher, at
    every poll) asks in a batch, which no cache serves.
    """

    def __init__(self, rpc_url: str, timeout: float, max_reply_bytes: int | None = None) -> None:
        super().__init__(rpc_url, request_kwargs={"timeout": timeout})
        self._request_session_manager = _CappedSessions(MAX_REPLY_BYTES if max_reply_bytes is None else max_reply_bytes)
        self._chain_id_lock = threading.Lock()
        self._chain_id_reply: tuple[float, RPCResponse] | None = None

    # An instance method where web3's is static, to name the endpoint (web3 calls it on self).
    def decode_rpc_response(self, raw_response: bytes) -> RPCResponse:  # type: ignore[override]
        """The reply as web3 expects it, or ``BadReply`` saying why it is not one."""
        try:
            reply = parse(raw_response)
        except BadJson as exc:
            raise BadReply(f"the chain at {self.endpoint_uri} sent a reply that is {exc}") from None
        problem = _envelope_problem(reply)
        if problem:
            raise BadReply(f"the chain at {self.endpoint_uri} sent a reply that is not JSON-RPC 2.0: {problem}")
        return cast(RPCResponse, reply)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method != "eth_chainId":
            return super().make_request(method, params)
        with self._chain_id_lock:
            remembered = self._chain_id_reply
        if remembered is not None and time.monotonic() - remembered[0] < CHAIN_ID_TTL_S:
            return remembered[1]
        response = super().make_request(method, params)
        if "result" in response:
            with self._chain_id_lock:
                self._chain_id_reply = (time.monotonic(), response)
        return response


def _envelope_problem(reply: Any) -> str:
    """What keeps ``reply`` from being a JSON-RPC 2.0 reply or batch of replies ("" if nothing).

    The same checks web3 makes later, so that a malformed reply is refused here with a sentence
    instead of surfacing as one of web3's own exceptions; a batch's ids must be integers (web3
    sorts the replies by them)."""
    if isinstance(reply, list):
        if not reply:
            return "an empty batch"
        for one in reply:
            problem = _envelope_problem(one)
            if problem:
                return problem
            if not isinstance(one.get("id"), int):
                return "a batch reply without an integer id"
        return ""
    if not isinstance(reply, dict):
        shown = repr(reply)
        return f"{shown if len(shown) <= 40 else shown[:37] + '...'}, not an object"
    if reply.get("jsonrpc") != "2.0":
        return 'no "jsonrpc": "2.0"'
    if ("result" in reply) == ("error" in reply):
        return 'not exactly one of "result" and "error"'
    reply_id = reply.get("id")
    if not (isinstance(reply_id, int | str) or (reply_id is None and "error" in reply)):
        return "an id that is neither a number nor a string"
    if "error" in reply:
        error = reply["error"]
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            return "an error without a message"
        if not isinstance(error.get("code"), int):
            return "an error without an integer code"
    return ""


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
