"""The profile routes: set this node's member's profile, read everyone's.

A profile is a signed message like a post (kind PROFILE): setting one publishes it, and every
node keeps its members' latest; the names it gives appear in every answer (``node.api.naming``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter

from node.api.fields import Body, Items, MemberAddress, NullableHash, Text
from node.api.naming import Names
from node.api.problems import HttpError, Json
from node.core import limits
from node.core.types import Attachment, Kind, ProfileBody
from node.core.types import Body as MessageBody
from node.daemon.service import NodeService
from node.store.profiles import Profile

Link = Annotated[str, Text(limits.MAX_LINK_BYTES)]


class ProfileFields(Body):
    name: Annotated[str, Text(limits.MAX_NAME_BYTES)]
    bio: Annotated[str, Text(limits.MAX_BIO_BYTES, blank=True)] = ""
    #: The sha256 of a picture uploaded before (POST /v1/blobs), or null for none.
    avatar: NullableHash = None
    links: Annotated[tuple[Link, ...], Items(0, limits.MAX_LINKS)] = ()


@dataclass
class People:
    service: NodeService
    names: Names
    #: Signs, stores and gossips a message of the member's (the message routes' publishing).
    publish: Callable[[Kind, MessageBody, str], Awaitable[dict[str, Any]]]

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/profiles", self.list_profiles, methods=["GET"])
        api.add_api_route("/v1/profiles/{member}", self.profile, methods=["GET"])
        api.add_api_route("/v1/profile", self.set_profile, methods=["POST"], status_code=201)

    async def list_profiles(self) -> Json:
        """Every current member's profile, with the name as shown."""
        shown = self.names.shown()
        view = self.service.view
        items = [profile_json(p, shown) for p in self.service.store.profiles.all() if view.is_member(p.member)]
        return Json({"profiles": items})

    async def profile(self, member: MemberAddress) -> Json:
        """One member's profile (404 when they have none, or are no longer a member)."""
        found = self.service.store.profiles.of(member)
        if found is None or not self.service.view.is_member(member):
            raise HttpError(404, f"{member} has no profile on this node")
        return Json(profile_json(found, self.names.shown()))

    async def set_profile(self, body: ProfileFields) -> Json:
        """Sets this node's member's profile (the latest wins on every node)."""
        avatar = None if body.avatar is None else self._avatar(body.avatar)
        profile = ProfileBody(body.name, body.bio, avatar, tuple(body.links))
        return Json(await self.publish(Kind.PROFILE, profile, ""), 201)

    def _avatar(self, sha256: bytes) -> Attachment:
        held = self.service.store.blobs.get(sha256)
        if held is None:
            raise HttpError(400, f"avatar {sha256.hex()} is not on this node: upload it first (POST /v1/blobs)")
        mime, data = held
        if mime not in limits.AVATAR_TYPES:
            raise HttpError(400, f"an avatar is a picture ({', '.join(sorted(limits.AVATAR_TYPES))}), not {mime}")
        return Attachment(sha256, len(data), mime)


def profile_json(profile: Profile, shown: dict[str, str]) -> dict[str, Any]:
    avatar = profile.avatar
    return {
        "member": profile.member,
        "name": profile.name,
        "shown_as": shown.get(profile.member, profile.name),
        "bio": profile.bio,
        "avatar": None
        if avatar is None
        else {"sha256": avatar[0].hex(), "size": avatar[1], "mime": avatar[2], "held": avatar[3]},
        "links": list(profile.links),
        "timestamp_ms": profile.timestamp_ms,
    }
