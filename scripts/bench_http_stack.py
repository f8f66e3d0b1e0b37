#!/usr/bin/env python3
"""kiez's own HTTP server against Starlette on Hypercorn's trio worker, side by side in one run.

The web app needs sessions, streaming (Server-Sent Events), static files and an OpenAPI
document generated from the code, which a framework gives; the hand-written server
(``node.api.http``) was built to survive strangers on the machine. This measures whether the
framework stack survives them as well, with the same two member routes behind the same token:

1. the member's request time, quiet (``--requests`` sequential posts);
2. ``--bodies`` strangers announcing and pushing 2 MiB bodies without the token (the flood of
   ``bench_api_flood.py``): 401s answered, bytes the server let them push, RSS peak and after;
3. ``--idle`` silent connections held open while the member posts ten times.

Each server runs in its own process with ``--fds`` file descriptors (default 1024, a desktop's
usual limit). The last line printed is one JSON object, with the ratios ASGI / h11.

Usage: .venv/bin/python scripts/bench_http_stack.py [--requests 300] [--bodies 600] [--idle 1200] [--fds 1024]
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_api_flood import push_bodies
from bench_memory import PeakSampler
from procstat import rss_mb

from node.harness.process import free_port

SCRIPTS = Path(__file__).resolve().parent
STACKS = {"h11": "httpstack.h11_server", "asgi": "httpstack.asgi_server"}


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def member_post_ms(port: int, token: str) -> float | None:
    """One member post's round trip in ms, or None if it was not answered 201."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    try:
        body = json.dumps({"text": "the member"})
        connection.request("POST", "/v1/posts", body, {"Authorization": f"Bearer {token}"})
        answer = connection.getresponse()
        answer.read()
        return (time.monotonic() - started) * 1000 if answer.status == 201 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def start(module: str, port: int, token: str, fds: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", module, str(port), token, str(fds)],
        cwd=SCRIPTS,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit(f"bench_http_stack: {module} did not start listening on {port}")


def measure(module: str, args: argparse.Namespace) -> dict[str, Any]:
    port, token = free_port(), secrets.token_urlsafe(32)
    server = start(module, port, token, args.fds)
    try:
        quiet = [member_post_ms(port, token) for _ in range(args.requests)]
        idle_mb = rss_mb(server.pid)
        with PeakSampler(server.pid) as sampler:
            pushed = push_bodies(port, args.bodies)
        time.sleep(1.0)
        after_mb = rss_mb(server.pid)
        held = []
        for _ in range(args.idle):
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        during = [member_post_ms(port, token) for _ in range(10)]
        for sock in held:
            sock.close()
        answered = [t for t in quiet if t is not None]
        flood = [t for t in during if t is not None]
        return {
            "member_ms_median": round(statistics.median(answered), 2) if answered else None,
            "member_answered": len(answered),
            **pushed,
            "rss_idle_mb": round(idle_mb, 1),
            "rss_peak_mb": round(sampler.peak, 1),
            "rss_after_mb": round(after_mb, 1),
            "silent_connections": len(held),
            "member_answered_during_idle_flood": len(flood),
            "member_ms_max_during_idle_flood": round(max(flood), 1) if flood else None,
            "alive": server.poll() is None,
        }
    finally:
        server.kill()
        server.wait()


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--bodies", type=int, default=600)
    parser.add_argument("--idle", type=int, default=1200)
    parser.add_argument("--fds", type=int, default=1024)
    args = parser.parse_args()
    found = {}
    for name, module in STACKS.items():
        say(f"{name}: {args.requests} member posts, {args.bodies} strangers' bodies, {args.idle} silent connections")
        found[name] = measure(module, args)
        say(f"{name}: {found[name]}")
    h11, asgi = found["h11"], found["asgi"]
    print(
        json.dumps(
            {
                **found,
                "asgi_vs_h11_member_ms_ratio": ratio(asgi["member_ms_median"], h11["member_ms_median"]),
                "asgi_vs_h11_rss_peak_ratio": ratio(asgi["rss_peak_mb"], h11["rss_peak_mb"]),
                "fds": args.fds,
            }
        )
    )


if __name__ == "__main__":
    main()
