"""``GET /v1/digest``: what happened since a moment, for a member who was away (``kiez digest``).

Computed on the member's node from what it holds (``node.store.digest`` says what each list is);
people are named as everywhere (``node.api.naming``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as InQuery

from node.api.fields import Integer, Query
from node.api.naming import Names
from node.api.problems import Json
from node.core.notices import quote
from node.daemon.service import NodeService
from node.store.digest import PostLine

WEEK_MS = 7 * 24 * 3600 * 1000


class DigestQuery(Query):
    #: From when (ms since the epoch); a week ago when left out.
    since_ms: Annotated[int, Integer(0, 2**53 - 1, query=True)] | None = None


@dataclass
class Digest:
    service: NodeService
    names: Names

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/digest", self.digest, methods=["GET"])

    async def digest(self, query: Annotated[DigestQuery, InQuery()]) -> Json:
        """The most-discussed threads, the posts that reached the most members, upcoming events,
        open proposals by closing time, polls and who joined, since ``since_ms``."""
        now = self.service.now_ms()
        since = now - WEEK_MS if query.since_ms is None else query.since_ms
        d = self.service.store.digests.since(since, now)
        answer: dict[str, Any] = {
            "since_ms": d.since_ms,
            "until_ms": d.until_ms,
            "posts": d.posts,
            "writers": d.writers,
            "threads": [_post(p, "replies") for p in d.threads],
            "reach": [_post(p, "members") for p in d.reach],
            "events": [
                {
                    "id": e.id.hex(),
                    "author": e.author,
                    "room": e.room,
                    "title": e.body.title,
                    "starts_ms": e.body.starts_ms,
                    "ends_ms": e.body.ends_ms,
                    "place": e.body.place,
                    "going": sum(1 for a in e.answers.values() if a == 1),
                }
                for e in d.events
            ],
            "proposals": [
                {
                    "number": p.number,
                    "kind": p.kind,
                    "proposer": p.proposer,
                    "description": p.description,
                    "closes_ms": p.vote_end_ms,
                    "votes": p.votes,
                }
                for p in d.proposals
            ],
            "polls": [
                {
                    "id": p.id.hex(),
                    "author": p.author,
                    "room": p.room,
                    "question": p.body.question,
                    "options": [{"option": o, "votes": v} for o, v in zip(p.body.options, p.tally, strict=True)],
                    "closes_ms": p.body.closes_ms,
                    "open": p.body.closes_ms > now,
                }
                for p in d.polls
            ],
            "joined": [{"member": m, "at_ms": at} for m, at in d.joined],
        }
        return Json(self.names.label(answer))


def _post(line: PostLine, count: str) -> dict[str, Any]:
    return {
        "id": line.id.hex(),
        "author": line.author,
        "room": line.room,
        "text": quote(line.text),
        "timestamp_ms": line.timestamp_ms,
        count: line.count,
        "people": line.people,
    }
