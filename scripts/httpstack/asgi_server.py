"""The same two routes as Starlette on Hypercorn's trio worker, written as an app on that stack
would be: the token is checked before the body is read, then the framework reads it.

Usage: python -m httpstack.asgi_server PORT TOKEN FDS (the process's file-descriptor limit)
"""

from __future__ import annotations

import hmac
import resource
import sys

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def app_for(token: bytes) -> Starlette:
    def authorised(request: Request) -> bool:
        given = request.headers.get("authorization", "").partition(" ")[2].encode()
        return hmac.compare_digest(given, token)

    async def blobs(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong API token"}, 401)
        return JSONResponse({"size": len(await request.body())}, 201)

    async def posts(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong API token"}, 401)
        return JSONResponse({"text": (await request.json()).get("text")}, 201)

    return Starlette(routes=[Route("/v1/blobs", blobs, methods=["POST"]), Route("/v1/posts", posts, methods=["POST"])])


def main() -> None:
    port, token, fds = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_NOFILE, (fds, fds))
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    trio.run(serve, app_for(token), config)


if __name__ == "__main__":
    main()
