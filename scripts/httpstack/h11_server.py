"""kiez's own server (node.api.http) with two member routes behind its Router and token.

Usage: python -m httpstack.h11_server PORT TOKEN FDS (the process's file-descriptor limit)
"""

from __future__ import annotations

import resource
import sys

import trio

from node.api.http import Response, serve
from node.api.router import Call, Route, Router, Takes


async def blobs(call: Call) -> Response:
    return Response(201, {"size": len(call.request.body)})


async def posts(call: Call) -> Response:
    return Response(201, {"text": call.request.json().get("text")})


def main() -> None:
    port, token, fds = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_NOFILE, (fds, fds))
    routes = [Route("POST", "/v1/blobs", blobs, Takes.RAW), Route("POST", "/v1/posts", posts, Takes.RAW)]
    trio.run(serve, Router(routes, token), port)


if __name__ == "__main__":
    main()
