#!/usr/bin/env python3
"""netem's ``delay D J loss L`` in user space, for kernels built without ``sch_netem``.

Packets that an iptables rule sends to an NFQUEUE (``-j NFQUEUE --queue-num Q``) are held here
for ``D`` ms ± a uniformly drawn jitter of up to ``J`` ms (netem's ``delay D J`` without a
distribution table draws uniformly too; like netem with jitter, packets may be reordered) and then
accepted; a fraction ``L`` is dropped instead. The kernel keeps the packet; we only ever see its
metadata (copy mode META) and answer with a verdict, so the cost per packet is two small netlink
messages. It speaks the nfnetlink_queue protocol directly (no libnetfilter_queue needed).

Run it inside the network namespace whose rule queues the packets::

    ip netns exec NS python scripts/nfq_delay.py --queue 0 --delay-ms 25 --jitter-ms 2.5 --loss 0.01

It prints ``{"ready": ...}`` once bound, and ``{"stats": ...}`` (packets seen, dropped, the most
held at once, how late verdicts were) when it gets SIGTERM or SIGINT. It asks for SCHED_FIFO
so that a busy machine delays its verdicts as little as the kernel's timer would delay netem's.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time
from types import FrameType

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NF_DROP = 0
NF_ACCEPT = 1
AF_UNSPEC = 0
AF_INET = 2

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid (host order)
_NFGENMSG = struct.Struct("!BBH")  # family, version, queue number (big endian)
_NLATTR = struct.Struct("=HH")


def _attr(kind: int, payload: bytes) -> bytes:
    raw = _NLATTR.pack(_NLATTR.size + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def _message(msg_type: int, flags: int, seq: int, family: int, queue: int, attrs: bytes) -> bytes:
    body = _NFGENMSG.pack(family, 0, queue) + attrs
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg_type
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, flags, seq, 0) + body


class Queue:
    """One bound nfnetlink queue."""

    def __init__(self, number: int, maxlen: int) -> None:
        self.number = number
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        for option in (33, socket.SO_RCVBUF):  # SO_RCVBUFFORCE (root) first, then the capped one
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, option, 8 * 1024 * 1024)
                break
            except OSError:
                continue
        self.sock.bind((0, 0))
        self._seq = 0
        self._config(AF_UNSPEC, _attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, AF_INET)))
        params = _attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))
        self._config(AF_UNSPEC, params + _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", maxlen)))
        self.sock.setblocking(False)

    def _config(self, family: int, attrs: bytes) -> None:
        self._seq += 1
        self.sock.send(_message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, self._seq, family, self.number, attrs))
        reply = self.sock.recv(65536)
        _length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(reply)
        if kind == NLMSG_ERROR:
            (error,) = struct.unpack_from("=i", reply, _NLMSGHDR.size)
            if error != 0:
                raise OSError(-error, f"nfqueue config of queue {self.number}: {os.strerror(-error)}")

    def packet_ids(self) -> list[int]:
        """Ids of the packets queued since the last call (drains the socket)."""
        ids: list[int] = []
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return ids
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, offset)
                if length < _NLMSGHDR.size:
                    break
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    pos = offset + _NLMSGHDR.size + _NFGENMSG.size
                    end = offset + length
                    while pos + _NLATTR.size <= end:
                        attr_len, attr_kind = _NLATTR.unpack_from(data, pos)
                        if attr_len < _NLATTR.size:
                            break
                        if attr_kind & 0x7FFF == NFQA_PACKET_HDR:
                            ids.append(struct.unpack_from("!I", data, pos + _NLATTR.size)[0])
                            break
                        pos += (attr_len + 3) & ~3
                offset += (length + 3) & ~3

    def verdict(self, packet_id: int, verdict: int) -> None:
        attrs = _attr(NFQA_VERDICT_HDR, struct.pack("!II", verdict, packet_id))
        message = _message(NFQNL_MSG_VERDICT, NLM_F_REQUEST, 0, AF_UNSPEC, self.number, attrs)
        while True:
            try:
                self.sock.send(message)
                return
            except BlockingIOError:
                select.select([], [self.sock], [], 0.01)


class _Stop(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run(queue: Queue, delay_s: float, jitter_s: float, loss: float) -> dict[str, float]:
    rng = random.Random()  # noqa: S311 - packet loss emulation, not cryptography
    held: list[tuple[float, int]] = []
    seen = dropped = most_held = 0
    late_max = late_sum = 0.0
    released = 0
    try:
        while True:
            timeout = None if not held else max(0.0, held[0][0] - time.monotonic())
            readable, _, _ = select.select([queue.sock], [], [], timeout)
            now = time.monotonic()
            if readable:
                for packet_id in queue.packet_ids():
                    seen += 1
                    if rng.random() < loss:
                        dropped += 1
                        queue.verdict(packet_id, NF_DROP)
                        continue
                    due = now + delay_s + rng.uniform(-jitter_s, jitter_s)
                    heapq.heappush(held, (due, packet_id))
                most_held = max(most_held, len(held))
            now = time.monotonic()
            while held and held[0][0] <= now:
                due, packet_id = heapq.heappop(held)
                queue.verdict(packet_id, NF_ACCEPT)
                late = now - due
                late_sum += late
                late_max = max(late_max, late)
                released += 1
    except _Stop:
        for _due, packet_id in held:
            queue.verdict(packet_id, NF_ACCEPT)
    return {
        "packets": seen,
        "dropped": dropped,
        "most_held": most_held,
        "late_mean_ms": round(1000 * late_sum / released, 3) if released else 0.0,
        "late_max_ms": round(1000 * late_max, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--jitter-ms", type=float, default=2.5)
    parser.add_argument("--loss", type=float, default=0.01, help="fraction of packets dropped (0.01 = 1 %%)")
    parser.add_argument("--maxlen", type=int, default=65536, help="packets the kernel may hold for us")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        scheduling = "SCHED_FIFO"
    except OSError:
        scheduling = "normal"
    queue = Queue(args.queue, args.maxlen)
    ready = {"queue": args.queue, "delay_ms": args.delay_ms, "jitter_ms": args.jitter_ms, "loss": args.loss}
    print(json.dumps({"ready": {**ready, "scheduling": scheduling}}), flush=True)
    stats = run(queue, args.delay_ms / 1000, args.jitter_ms / 1000, args.loss)
    print(json.dumps({"stats": stats}), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
