"""Blocks, logs and the chain id as an endpoint reports them, each field checked before use.

web3's result formatters trust the endpoint: a block number that is not hex, a log whose topics
are numbers or a hash of five bytes surfaces as a ``ValueError``, ``TypeError`` or
``AttributeError`` from deep inside web3 (which a long-running node does not expect), or is
passed on as it came. What the node's view is built from (the chain id, blocks, the contract's
logs) is therefore read here from the raw JSON-RPC reply, and every field it uses is checked:
hex quantities, 32-byte hashes, a log from the contract and the range that was asked for, a
block with the number that was asked for. Anything else is ``BadReply`` naming the field.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from eth_abi.exceptions import DecodingError
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from governance.errors import BadReply, ChainUnavailable
from governance.events import Event, EventDecoder

_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
#: Topics a log can carry (LOG0 to LOG4).
MAX_TOPICS = 4


class Malformed(BadReply):
    """A field of a reply that is not what it must be; the fetching functions turn it into
    ``BadReply`` naming the endpoint."""


@dataclass(frozen=True)
class BlockRef:
    """What the node needs of a block: where it is, what it is, and its time (seconds)."""

    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int


def quantity(value: Any, what: str) -> int:
    """A JSON-RPC quantity (``0x`` and at most 64 hex digits) as an int."""
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise Malformed(f"{what} is {_show(value)}, not a hex quantity")
    return int(value, 16)


def data(value: Any, what: str, size: int | None = None) -> bytes:
    """JSON-RPC data (``0x`` and pairs of hex digits), of ``size`` bytes if given."""
    if not isinstance(value, str) or not _DATA.fullmatch(value):
        raise Malformed(f"{what} is {_show(value)}, not hex data")
    raw = bytes.fromhex(value[2:])
    if size is not None and len(raw) != size:
        raise Malformed(f"{what} has {len(raw)} bytes, not {size}")
    return raw


def block_ref(result: Any, what: str) -> BlockRef:
    if not isinstance(result, dict):
        raise Malformed(f"{what} is {_show(result)}, not a block")
    return BlockRef(
        number=quantity(result.get("number"), f"the number of {what}"),
        hash=data(result.get("hash"), f"the hash of {what}", 32),
        parent_hash=data(result.get("parentHash"), f"the parent hash of {what}", 32),
        timestamp=quantity(result.get("timestamp"), f"the timestamp of {what}"),
    )


def log_record(result: Any, address: str, first: int, last: int) -> dict[str, Any]:
    """One log of ``address`` in blocks ``first..last``, as ``EventDecoder.decode`` takes it."""
    if not isinstance(result, dict):
        raise Malformed(f"a log is {_show(result)}, not an object")
    number = quantity(result.get("blockNumber"), "the block number of a log")
    index = quantity(result.get("logIndex"), f"the index of a log in block {number}")
    what = f"log {index} of block {number}"
    source = result.get("address")
    if not isinstance(source, str) or source.lower() != address.lower():
        raise Malformed(f"{what} comes from {_show(source)}, not from the contract {address} it was asked for")
    if not first <= number <= last:
        raise Malformed(f"{what} lies outside the blocks {first}..{last} it was asked for")
    if result.get("removed") not in (None, False):
        raise Malformed(f"{what} is marked removed (a reorganisation is under way)")
    topics = result.get("topics")
    if not isinstance(topics, list) or len(topics) > MAX_TOPICS:
        raise Malformed(f"the topics of {what} are {_show(topics)}, not a list of at most {MAX_TOPICS}")
    return {
        "address": source,
        "topics": [data(t, f"a topic of {what}", 32) for t in topics],
        "data": data(result.get("data"), f"the data of {what}"),
        "blockNumber": number,
        "logIndex": index,
        "blockHash": data(result.get("blockHash"), f"the block hash of {what}", 32),
        "transactionHash": data(result.get("transactionHash"), f"the transaction hash of {what}", 32),
    }


def chain_id(w3: Web3) -> int:
    """The chain id the endpoint reports."""
    with _sent_by(w3):
        return quantity(request(w3, "eth_chainId", []), "the chain id")


def head_number(w3: Web3) -> int:
    with _sent_by(w3):
        return quantity(request(w3, "eth_blockNumber", []), "the latest block number")


def code(w3: Web3, address: str) -> bytes:
    with _sent_by(w3):
        return data(request(w3, "eth_getCode", [address, "latest"]), f"the code at {address}")


def block(w3: Web3, number: int | str) -> BlockRef | None:
    """Block ``number`` (or "latest"); None where the endpoint has no such block."""
    with _sent_by(w3):
        return _block(number, request(w3, "eth_getBlockByNumber", [_tag(number), False]))


def chain_and_block(w3: Web3, number: int | str) -> tuple[int, BlockRef]:
    """The chain id as reported now, and block ``number`` (or "latest"), in one round trip."""
    with _sent_by(w3):
        reported, found = batch(w3, [("eth_chainId", []), ("eth_getBlockByNumber", [_tag(number), False])])
        block = _block(number, found)
        if block is None:
            raise Malformed(f"it has no block {number}")
        return quantity(reported, "the chain id"), block


def logs(w3: Web3, address: str, topics: list[Any], first: int, last: int) -> list[dict[str, Any]]:
    """The logs of ``address`` in blocks ``first..last`` matching ``topics`` (None: any)."""
    query = {
        "address": address,
        "fromBlock": hex(first),
        "toBlock": hex(last),
        "topics": [_topic(t) for t in topics],
    }
    with _sent_by(w3):
        found = request(w3, "eth_getLogs", [query])
        if not isinstance(found, list):
            raise Malformed(f"the logs of blocks {first}..{last} are {_show(found)}, not a list")
        return [log_record(one, address, first, last) for one in found]


def events(w3: Web3, decoder: EventDecoder, address: str, topics: list[Any], first: int, last: int) -> list[Event]:
    """The contract's events in blocks ``first..last``, from logs checked by ``logs``."""
    found = logs(w3, address, topics, first, last)
    try:
        return decoder.decode_all(found)
    except (ValueError, TypeError, KeyError, DecodingError) as exc:
        raise BadReply(f"the chain at {_url(w3)} sent a log of the contract that does not decode: {exc}") from None


def request(w3: Web3, method: str, params: Sequence[Any]) -> Any:
    """The raw result of one call (no web3 formatting); an error reply is ``ChainUnavailable``."""
    return _result(w3, method, w3.provider.make_request(RPCEndpoint(method), list(params)))


def batch(w3: Web3, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """The raw results of ``calls``, in one round trip where the endpoint takes batches.

    A batch is never served from a cache (``EndpointProvider`` remembers chain ids only for
    single requests), so it gives the chain id as the endpoint reports it now. Where the endpoint
    refuses batches (an error reply, or an HTTP error), each call is sent alone, and a chain id
    may then be up to ``CHAIN_ID_TTL_S`` old."""
    provider = w3.provider
    replies: Any = {}
    if isinstance(provider, HTTPProvider):
        with contextlib.suppress(requests.exceptions.HTTPError):  # refused with an HTTP status
            replies = provider.make_batch_request([(RPCEndpoint(method), list(params)) for method, params in calls])
    if isinstance(replies, dict):  # no batch taken (refused, or an error reply): one request each
        return [request(w3, method, params) for method, params in calls]
    if len(replies) != len(calls) or len({r["id"] for r in replies}) != len(calls):
        raise BadReply(f"the chain at {_url(w3)} answered a batch of {len(calls)} requests with {len(replies)} replies")
    return [_result(w3, method, reply) for (method, _), reply in zip(calls, replies, strict=True)]


@contextmanager
def _sent_by(w3: Web3) -> Iterator[None]:
    """A malformed field becomes ``BadReply`` naming the endpoint."""
    try:
        yield
    except Malformed as exc:
        raise BadReply(f"the chain at {_url(w3)} sent a bad reply: {exc}") from None


def _block(number: int | str, result: Any) -> BlockRef | None:
    if result is None:
        return None
    found = block_ref(result, f"block {number}" if isinstance(number, int) else f"the {number} block")
    if isinstance(number, int) and found.number != number:
        raise Malformed(f"asked for block {number}, it sent block {found.number}")
    return found


def _tag(number: int | str) -> str:
    return hex(number) if isinstance(number, int) else number


def _topic(topic: Any) -> Any:
    if isinstance(topic, bytes):
        return "0x" + topic.hex()
    if isinstance(topic, list):
        return [_topic(t) for t in topic]
    return topic


def _result(w3: Web3, method: str, reply: Any) -> Any:
    if "error" in reply:
        raise ChainUnavailable(f"the chain at {_url(w3)} refused {method}: {reply['error']['message']}")
    return reply["result"]


def _url(w3: Web3) -> str:
    return str(getattr(w3.provider, "endpoint_uri", "the chain"))


def _show(value: Any) -> str:
    """``value`` for a message: its repr, cut short (a hostile reply can be megabytes)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
