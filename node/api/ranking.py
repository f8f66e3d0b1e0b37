"""The ranking routes: the bridging and personal feeds and the opinion map, each item with why.

The models live in the pure core (``node.core.bridging``, ``personal``, ``opinions``); the store
reads what they need and caches the results by content version (``node.store.ranking``), so a page
after the first costs no model. They run on the node's thread, like every store read: the store's
one connection is not shared with worker threads. The models import numpy, so they are imported
on a node's first ranking or map, not at its start (``node.core.records``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter
from fastapi import Query as InQuery

from node.api.fields import Hash, Integer, Query, RoomRef
from node.api.naming import Names
from node.api.posts import MAX_PAGE, item_json
from node.api.problems import HttpError, Json
from node.core.records import DIVERSITY, MIN_SUPPORTERS
from node.daemon.service import NodeService

if TYPE_CHECKING:
    from node.core import bridging, personal
    from node.core.opinions import OpinionMap, Statement

#: The diversity floor in percent of a page, when the request does not say (``personal``).
DIVERSITY_PERCENT = round(DIVERSITY * 100)
#: The personal feed's newness is taken at this step of the clock (and its pages cached as long).
NEWNESS_STEP_MS = 60_000


class RankingQuery(Query):
    sort: Literal["bridging", "personal"] = "bridging"
    room: RoomRef = ""
    limit: Annotated[int, Integer(1, MAX_PAGE, query=True)] = 20
    page: Annotated[int, Integer(0, 10_000, query=True)] = 0
    diversity: Annotated[int, Integer(0, 100, query=True)] = DIVERSITY_PERCENT
    min_supporters: Annotated[int, Integer(1, 1000, query=True)] = MIN_SUPPORTERS


class OpinionQuery(Query):
    room: RoomRef = ""
    poll: Hash | None = None


@dataclass
class Ranking:
    service: NodeService
    names: Names

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/ranking", self.ranking, methods=["GET"])
        api.add_api_route("/v1/opinions", self.opinions, methods=["GET"])

    async def ranking(self, query: Annotated[RankingQuery, InQuery()]) -> Json:
        """One page of the open rooms' top-level posts (of ``room``, or all), ranked by ``sort``;
        every item says why it is there (``why``), and personal items outside the member's usual
        topics and people are marked ``outside``."""
        room = query.room or None
        picked: Sequence[bridging.Ranked | personal.Picked] = (
            self._bridging(room, query.min_supporters)
            if query.sort == "bridging"
            else self._personal(room, query.limit, query.diversity / 100)
        )
        start = query.page * query.limit
        shown = picked[start : start + query.limit]
        items = []
        for found in shown:  # only the page's items become JSON: a list of 10,000 would cost more
            item = self.service.store.feed.post(found.id)
            if item is not None:  # hidden or deleted since the cached ranking
                items.append({**item_json(item), **_why(found)})
        more = len(picked) > start + query.limit
        return Json(self.names.label({"sort": query.sort, "items": items, "page": query.page, "more": more}))

    def _bridging(self, room: str | None, min_supporters: int) -> list[bridging.Ranked]:
        from node.core import bridging  # noqa: PLC0415 - numpy, on the first ranking (see module)
        from node.core.engagement import signals  # noqa: PLC0415

        store = self.service.store.rankings

        def compute() -> list[bridging.Ranked]:
            return bridging.rank(signals(store.engagement(), room), min_supporters=min_supporters)

        return store.cached(("bridging", room, min_supporters), compute)

    def _personal(self, room: str | None, page_size: int, diversity: float) -> personal.Arranged:
        from node.core import personal  # noqa: PLC0415 - numpy, on the first ranking (see module)

        store = self.service.store.rankings
        me = self.service.view.owner_of(self.service.signer.public_key) or ""
        # newness is taken at the minute, so the pages of one minute come from one arrangement
        minute = self.service.now_ms() // NEWNESS_STEP_MS * NEWNESS_STEP_MS

        def compute() -> personal.Profile:
            engagement = store.engagement()
            texts = store.cached(
                ("texts", room), lambda: personal.vectorise(engagement.top_level(room)), posts_only=True
            )
            return personal.profile(engagement, me, room, texts)

        def arranged() -> personal.Arranged:
            found = store.cached(("profile", me, room), compute)
            follows = frozenset(self.service.store.rooms.follows())
            return personal.arrange(found, follows=follows, now_ms=minute, page_size=page_size, diversity=diversity)

        return store.cached(("personal", me, room, page_size, diversity, minute), arranged)

    async def opinions(self, query: Annotated[OpinionQuery, InQuery()]) -> Json:
        """The groups of opinion over poll answers and reactions (of ``room`` or ``poll``): each
        shown group's size and the statements it agrees on, and the consensus of all groups. Which
        member is in which group is never said; groups under three members are only counted."""
        found = self._opinions(query.room or None, query.poll)
        return Json(opinion_json(found))

    def _opinions(self, room: str | None, poll: bytes | None) -> OpinionMap:
        from node.core.opinions import opinion_map, statements_of  # noqa: PLC0415 - numpy (see module)

        store = self.service.store.rankings
        if poll is not None and all(p.id != poll for p in store.polls()):
            raise HttpError(404, f"no visible poll {poll.hex()} on this node")

        def compute() -> OpinionMap:
            statements, votes = statements_of(store.engagement(), store.polls(), room=room, poll=poll)
            return opinion_map(statements, votes)

        return store.cached(("opinions", room, poll), compute)


def _why(found: bridging.Ranked | personal.Picked) -> dict[str, Any]:
    """What a ranked item adds to a post's JSON: why it is there, its score, and whether the
    diversity floor brought it from outside (never, for bridging)."""
    from node.core.bridging import Ranked  # noqa: PLC0415 - loaded already by the ranking

    if isinstance(found, Ranked):
        return {"why": [found.explanation], "score": found.score, "supporters": found.supporters, "outside": False}
    return {"why": list(found.reasons), "score": found.score, "outside": found.outside}


def opinion_json(found: OpinionMap) -> dict[str, Any]:
    """The map as JSON: counts, groups with what they agree on, consensus, plot points."""

    def statement(s: Statement, share: float | None = None) -> dict[str, Any]:
        return {"id": s.id, "text": s.text, **({} if share is None else {"agree": round(share, 3)})}

    return {
        "members": found.members,
        "statements": found.statements,
        "groups": [{"size": g.size, "agrees": [statement(s, a) for s, a in g.agrees]} for g in found.groups],
        "hidden_groups": found.hidden_groups,
        "consensus": [statement(s) for s in found.consensus],
        "points": [[round(x, 4), round(y, 4), g] for x, y, g in found.points],
        "silhouette": round(found.silhouette, 4),
    }
