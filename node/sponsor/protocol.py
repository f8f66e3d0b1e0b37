"""``/kiez/sponsor/1.0.0``: a newcomer asks a member's node to submit what the newcomer signed.

One request and one answer per stream, each a length-prefixed msgpack frame:

    request   [kind, payload]   kind "join":    payload = a signed join request (governance wire form)
                                kind "key":     payload = a signed key authorisation
                                kind "execute": payload = the number of a passed AddMember proposal
    answer    {"ok": bool, "message": str, "tx": str, "proposal": int}

The payloads are signed by the newcomer (and the invitation by a member); the contract checks
every signature, so a sponsor can pay or refuse but never change what it submits. A node that does
not sponsor answers ``ok: false`` with a sentence, so the newcomer tries the next node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack
import trio

from node.errors import NodeError
from node.p2p import P2PHost, Stream

PROTOCOL = "/kiez/sponsor/1.0.0"
KINDS = ("join", "key", "execute")
MAX_REQUEST_BYTES = 4096
MAX_ANSWER_BYTES = 4096
CLOSE_TIMEOUT_S = 2.0


class SponsorError(NodeError):
    """A sponsor request or answer broke the protocol, or no sponsor could be reached."""


@dataclass(frozen=True)
class SponsorReply:
    ok: bool
    message: str
    tx: str = ""
    proposal: int = 0

    def to_bytes(self) -> bytes:
        data: bytes = msgpack.packb(
            {"ok": self.ok, "message": self.message, "tx": self.tx, "proposal": self.proposal}, use_bin_type=True
        )
        return data

    @classmethod
    def from_bytes(cls, data: bytes) -> SponsorReply:
        raw = _unpack(data, "answer")
        if not isinstance(raw, dict) or type(raw.get("ok")) is not bool or type(raw.get("message")) is not str:
            raise SponsorError("the sponsor's answer is not {ok, message, …}")
        tx, proposal = raw.get("tx", ""), raw.get("proposal", 0)
        if type(tx) is not str or type(proposal) is not int:
            raise SponsorError("the sponsor's answer has a malformed tx or proposal")
        return cls(raw["ok"], raw["message"][:500], tx[:80], proposal)


def _unpack(data: bytes, what: str) -> Any:
    try:
        return msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.UnpackException) as exc:
        raise SponsorError(f"the sponsor {what} is not msgpack ({exc})") from None


def encode_request(kind: str, payload: bytes | int) -> bytes:
    data: bytes = msgpack.packb([kind, payload], use_bin_type=True)
    return data


def decode_request(data: bytes) -> tuple[str, bytes | int]:
    raw = _unpack(data, "request")
    if type(raw) is not list or len(raw) != 2 or raw[0] not in KINDS:
        raise SponsorError(f"a sponsor request is [kind, payload] with kind one of {', '.join(KINDS)}")
    kind, payload = raw
    if kind == "execute" and (type(payload) is not int or payload <= 0):
        raise SponsorError("an execute request names a proposal number")
    if kind != "execute" and type(payload) is not bytes:
        raise SponsorError(f"a {kind} request carries the signed bytes")
    return kind, payload


async def read_one(stream: Stream, limit: int) -> bytes:
    body = await stream.read_frame(limit)
    if body is None:
        raise SponsorError("the peer closed the stream before sending anything")
    return body


async def ask_sponsor(host: P2PHost, peer_id: str, kind: str, payload: bytes | int, timeout_s: float) -> SponsorReply:
    """Sends one request to ``peer_id`` (already connected) and returns its answer."""
    with trio.fail_after(timeout_s):
        stream = await host.open_stream(peer_id, PROTOCOL)
        try:
            await stream.write_frame(encode_request(kind, payload))
            return SponsorReply.from_bytes(await read_one(stream, MAX_ANSWER_BYTES))
        finally:
            await stream.close(CLOSE_TIMEOUT_S)
