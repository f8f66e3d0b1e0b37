"""How a route module declares its routes: FastAPI's router, with kiez's JSON reading and answers.

Bodies are read with ``node.core.jsontext`` (orjson, a fixed nesting limit) instead of the
framework's ``json.loads``, which recurses on the C stack: once web3's dependency py_ecc has
raised the recursion limit, a body of nested brackets would crash the process instead of being
refused.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

from node.core.jsontext import BadJson, parse


class _Request(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse(await self.body())
            except BadJson as exc:
                raise HTTPException(400, f"the request body is {exc}") from None
        return self._json


class Route(APIRoute):
    """An API route whose body is parsed by ``node.core.jsontext``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(_Request(request.scope, request.receive))

        return route
