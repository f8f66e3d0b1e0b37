"""Is this node reachable from the internet? Members' nodes dial it back to find out.

``/kiez/dialback/1.0.0``, one request and one answer per stream, msgpack frames:

    request   {"ports": [tcp port, ...]}            the ports this node listens on (at most 4)
    answer    {"observed": "ip", "reached": [port, ...]}   or   {"error": "sentence"}

The answering node dials the address it sees the asker's connection come from (never one the
asker names: the request cannot aim the dial at anybody else) on each port, on a **fresh TCP
connection**, and counts a port reached when the asker's listener greets it with libp2p's
multistream header. py-libp2p's AutoNAT dials back through the swarm, which reuses the open
connection and so reports every node as public; a raw connect cannot be answered by the old one.
Only members' nodes are answered, at most once per ``ANSWER_EVERY_S`` each, and a relayed
connection gets an error: its far end is the relay, not the asker.

``Reachability`` asks a few connected members' nodes now and then and keeps the verdict
(``judge``): public once anybody got through, private when those who answered could not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack
import trio

from node.p2p.errors import BadFrame, StreamFailed
from node.p2p.host import P2PHost
from node.p2p.streams import Stream

log = logging.getLogger(__name__)

PROTOCOL = "/kiez/dialback/1.0.0"
MAX_FRAME = 512
MAX_PORTS = 4
#: The greeting every py-libp2p (and go, js, rust) listener sends first on a new connection.
GREETING = b"\x13/multistream/1.0.0\n"
DIAL_TIMEOUT_S = 3.0
ASK_TIMEOUT_S = 4 * DIAL_TIMEOUT_S + 5.0
ANSWER_EVERY_S = 30.0
ASK_PEERS = 3
#: How often the verdict is renewed: soon while unknown, rarely once known.
RECHECK_UNKNOWN_S = 10.0
RECHECK_KNOWN_S = 600.0
UNKNOWN, PUBLIC, PRIVATE = "unknown", "public", "private"


@dataclass(frozen=True)
class Answer:
    """One member node's dial-back: where it saw us, which of our ports it reached."""

    peer: str
    observed: str
    reached: tuple[int, ...]


def judge(answers: Iterable[Answer]) -> str:
    """Public if any peer reached any port, private if peers answered and none did."""
    answers = list(answers)
    if not answers:
        return UNKNOWN
    return PUBLIC if any(a.reached for a in answers) else PRIVATE


def encode_request(ports: Sequence[int]) -> bytes:
    packed: bytes = msgpack.packb({"ports": list(ports)[:MAX_PORTS]})
    return packed


def decode_request(data: bytes) -> list[int]:
    """The asked ports; ``ValueError`` with a sentence for anything else."""
    try:
        raw = msgpack.unpackb(data)
    except Exception as error:  # msgpack raises several types for garbage
        raise ValueError(f"the request is not msgpack ({error})") from None
    ports = raw.get("ports") if isinstance(raw, dict) else None
    if not isinstance(ports, list) or not 0 < len(ports) <= MAX_PORTS:
        raise ValueError(f"the request must be {{ports: [1-{MAX_PORTS} TCP ports]}}")
    if not all(type(p) is int and 0 < p < 65536 for p in ports):
        raise ValueError("a port must be an integer from 1 to 65535")
    return sorted(set(ports))


def decode_answer(peer: str, data: bytes) -> Answer:
    try:
        raw = msgpack.unpackb(data)
    except Exception as error:  # msgpack raises several types for garbage
        raise ValueError(f"the answer is not msgpack ({error})") from None
    if not isinstance(raw, dict):
        raise ValueError("the answer is not a map")
    if isinstance(raw.get("error"), str):
        raise ValueError(f"the peer said: {raw['error'][:200]}")
    observed, reached = raw.get("observed"), raw.get("reached")
    if not isinstance(observed, str) or not isinstance(reached, list) or not all(type(p) is int for p in reached):
        raise ValueError("the answer must be {observed: ip, reached: [ports]}")
    return Answer(peer, observed[:64], tuple(reached[:MAX_PORTS]))


async def greets(ip: str, port: int, timeout_s: float = DIAL_TIMEOUT_S) -> bool:
    """Whether a libp2p listener answers at ``ip:port`` on a new TCP connection."""
    with trio.move_on_after(timeout_s):
        try:
            conn = await trio.open_tcp_stream(ip, port)
        except OSError:
            return False
        async with conn:
            received = b""
            while len(received) < len(GREETING):
                chunk = await conn.receive_some(len(GREETING) - len(received))
                if not chunk:
                    break
                received += chunk
            return received == GREETING
    return False


@dataclass
class DialBack:
    """Both sides of the protocol on one host; ``is_member_peer`` takes a base58 peer id."""

    host: P2PHost
    is_member_peer: Callable[[str], bool]
    listen_ports: Callable[[], list[int]]
    answers: dict[str, Answer] = field(default_factory=dict)
    verdict: str = UNKNOWN
    checked_ms: int = 0
    answered: int = 0
    _last_answer: dict[str, float] = field(default_factory=dict)

    def register(self) -> None:
        self.host.set_stream_handler(PROTOCOL, self._answer)

    def status(self) -> dict[str, Any]:
        return {
            "reachability": self.verdict,
            "checked_by": sorted(self.answers),
            "observed": sorted({a.observed for a in self.answers.values()}),
            "checked_ms": self.checked_ms,
            "dialbacks_answered": self.answered,
        }

    async def run(self, on_change: Callable[[str], None]) -> None:
        """Ask now and then until cancelled; ``on_change(verdict)`` when the verdict changes."""
        while True:
            before = self.verdict
            await self.check()
            if self.verdict != before:
                log.info("reachability: %s (dialled back by %s)", self.verdict, ", ".join(sorted(self.answers)))
                on_change(self.verdict)
            await trio.sleep(RECHECK_UNKNOWN_S if self.verdict == UNKNOWN else RECHECK_KNOWN_S)

    async def check(self) -> None:
        """One round: ask up to ``ASK_PEERS`` connected members' nodes over direct connections."""
        ports = self.listen_ports()
        relayed = self.host.relayed_peers()
        asked = [p for p in self.host.connected_peers() if p not in relayed and self.is_member_peer(p)]
        if not ports or not asked:
            return
        fresh: dict[str, Answer] = {}
        for peer in asked[:ASK_PEERS]:
            try:
                fresh[peer] = await self.ask(peer, ports)
            except (StreamFailed, BadFrame, ValueError) as error:
                log.debug("dial-back by %s: %s", peer, error)
        if fresh:
            self.answers = fresh
            self.verdict = judge(fresh.values())
            self.checked_ms = int(time.time() * 1000)

    async def ask(self, peer: str, ports: Sequence[int]) -> Answer:
        """Ask ``peer`` to dial us back on ``ports``."""
        stream = await self.host.open_stream(peer, PROTOCOL)
        try:
            with trio.fail_after(ASK_TIMEOUT_S):
                await stream.write_frame(encode_request(ports))
                data = await stream.read_frame(MAX_FRAME)
        except trio.TooSlowError:
            raise StreamFailed(peer, "no dial-back answer in time") from None
        finally:
            await stream.close(1.0)
        if data is None:
            raise StreamFailed(peer, "the peer closed the stream without answering")
        return decode_answer(peer, data)

    async def _answer(self, stream: Stream) -> None:
        try:
            with trio.fail_after(ASK_TIMEOUT_S):
                await stream.write_frame(await self._reply(stream))
        except (trio.TooSlowError, StreamFailed, BadFrame) as error:
            log.debug("dial-back for %s: %s", stream.peer_id, error)
        finally:
            await stream.close(1.0)

    async def _reply(self, stream: Stream) -> bytes:
        peer = stream.peer_id
        data = await stream.read_frame(MAX_FRAME)
        if data is None:
            return _error("no request")
        if not self.is_member_peer(peer):
            return _error("this node dials back members' nodes only")
        now = time.monotonic()
        if now - self._last_answer.get(peer, -ANSWER_EVERY_S) < ANSWER_EVERY_S:
            return _error(f"one dial-back per {ANSWER_EVERY_S:.0f} s, please")
        try:
            ports = decode_request(data)
        except ValueError as error:
            return _error(str(error))
        ip = self.host.observed_ip(stream)
        if ip is None:
            return _error("cannot dial back over a relayed connection: its far end is the relay")
        self._last_answer[peer] = now
        reached = [port for port in ports if await greets(ip, port)]
        self.answered += 1
        packed: bytes = msgpack.packb({"observed": ip, "reached": reached})
        return packed


def _error(sentence: str) -> bytes:
    packed: bytes = msgpack.packb({"error": sentence})
    return packed
