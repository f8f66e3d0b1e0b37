"""The notification routes: what this node's member is told about, and marking it read.

Computed on the member's own node from what it holds (``node.store.notices``), never sent
anywhere. A reminder that a proposal closes unvoted is checked against the contract first: a
proposal can be decided before its end, and a decided one needs no vote. The web app refreshes
them on each ``change`` of ``GET /v1/stream``; ``kiez notifications --follow`` does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import trio
from fastapi import APIRouter
from fastapi import Query as InQuery

from governance.client import CommunityClient
from governance.errors import GovernanceError
from governance.types import ProposalState
from node.api.fields import Body, Integer, Query, QueryFlag
from node.api.naming import Names
from node.api.problems import HttpError, Json
from node.core.notices import Notice, NoticeKind, newest_first, sentence, unread
from node.daemon.service import NodeService

MAX_NOTICES = 200


class NoticeQuery(Query):
    unread: QueryFlag = False
    limit: Annotated[int, Integer(1, MAX_NOTICES, query=True)] = 50


class ReadFields(Body):
    #: Everything up to this moment (ms) is read; leave it out for "everything until now".
    until_ms: Annotated[int, Integer(0, 2**53 - 1)] | None = None


@dataclass
class Notifications:
    service: NodeService
    names: Names
    #: Connects (once) to the community's contract, to check that a closing proposal is still open.
    connect: Callable[[], CommunityClient]
    _client: CommunityClient | None = None

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/notifications", self.notifications, methods=["GET"])
        api.add_api_route("/v1/notifications/read", self.read, methods=["POST"])

    def _me(self) -> str:
        me = self.service.view.owner_of(self.service.signer.public_key)
        if me is None:
            raise HttpError(409, "this node's app key is not registered yet, so it has nobody to notify")
        return me

    async def notifications(self, query: Annotated[NoticeQuery, InQuery()]) -> Json:
        """This member's notifications, newest first, each with ``unread`` and a sentence."""
        me, now = self._me(), self.service.now_ms()
        store = self.service.store.notices
        found = newest_first(await self._still_open(store.gather(me, now, query.limit)), MAX_NOTICES)
        read_until = store.read_until()
        shown = [n for n in found if unread(n, read_until)] if query.unread else found
        namer = self.names.namer()
        items = [_notice_json(n, unread(n, read_until), sentence(n, namer)) for n in shown[: query.limit]]
        return Json(
            self.names.label(
                {
                    "me": me,
                    "items": items,
                    "unread": sum(unread(n, read_until) for n in found),
                    "read_until_ms": read_until,
                }
            )
        )

    async def read(self, fields: ReadFields) -> Json:
        """Marks every notification up to ``until_ms`` (default: now) read."""
        self._me()
        until = self.service.now_ms() if fields.until_ms is None else fields.until_ms
        held = self.service.store.notices.mark_read(until)
        self.service.changes.bump()  # other tabs show the count going down
        return Json({"read_until_ms": held})

    async def _still_open(self, notices: list[Notice]) -> list[Notice]:
        """``notices`` without reminders of proposals the contract has already decided (kept if
        the chain cannot be asked: a reminder too many beats one missed)."""
        closing = [n for n in notices if n.kind is NoticeKind.CLOSING and n.proposal is not None]
        if not closing:
            return notices

        def decided() -> set[int]:
            client = self._client = self._client or self.connect()
            return {
                number
                for number in {n.proposal for n in closing if n.proposal is not None}
                if client.state(client.proposal_id(number)) is not ProposalState.ACTIVE
            }

        try:
            gone = await trio.to_thread.run_sync(decided)
        except GovernanceError:
            return notices
        return [n for n in notices if not (n.kind is NoticeKind.CLOSING and n.proposal in gone)]


def _notice_json(notice: Notice, is_unread: bool, words: str) -> dict[str, Any]:
    return {
        "key": notice.key,
        "kind": notice.kind.value,
        "at_ms": notice.at_ms,
        "unread": is_unread,
        "actor": notice.actor,
        "message": None if notice.message is None else notice.message.hex(),
        "room": notice.room,
        "text": notice.text,
        "proposal": notice.proposal,
        "due_ms": notice.due_ms,
        "hidden": notice.hidden if notice.kind is NoticeKind.MODERATION else None,
        "sentence": words,
    }
