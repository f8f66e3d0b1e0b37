"""``GET /v1/search``: full-text search over the posts this node can show, ranked, with the
matching words marked in a snippet (node/store/search.py says what is indexed and why private
rooms are not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter
from fastapi import Query as InQuery

from node.api.fields import Integer, MemberAddress, Query, RoomRef, Text
from node.api.naming import Names
from node.api.problems import Json
from node.daemon.service import NodeService
from node.store.search import MARK_END, MARK_START

MAX_HITS = 100


class SearchQuery(Query):
    q: Annotated[str, Text(200)]
    #: Only this room ("" is the general room); all rooms when left out.
    room: RoomRef | None = None
    author: MemberAddress | None = None
    since_ms: Annotated[int, Integer(0, 2**53 - 1, query=True)] = 0
    limit: Annotated[int, Integer(1, MAX_HITS, query=True)] = 20


@dataclass
class Search:
    service: NodeService
    names: Names

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/search", self.search, methods=["GET"])

    async def search(self, query: Annotated[SearchQuery, InQuery()]) -> Json:
        """Posts holding every word of ``q`` (or words starting with it), best match first."""
        hits = self.service.store.search.find(
            query.q, room=query.room, author=query.author, since_ms=query.since_ms, limit=query.limit
        )
        results = [
            {
                "id": h.id.hex(),
                "author": h.author,
                "room": h.room,
                "timestamp_ms": h.timestamp_ms,
                "text": h.text,
                "snippet": h.snippet,
            }
            for h in hits
        ]
        return Json(self.names.label({"results": results, "marks": [MARK_START, MARK_END]}))
