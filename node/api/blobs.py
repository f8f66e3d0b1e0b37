"""Attachments: uploading a picture's bytes before a post names it by hash, and reading one back.

The store forgets the bytes of blobs no visible post names; an upload is spared that for a while
(``UPLOAD_KEPT_MS``) so a member can upload first and write the post after.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from node.api.fields import parse_id
from node.api.guard import MAX_BODY_KEY
from node.api.problems import COMMON_HEADERS, HttpError, Json
from node.core import limits, media
from node.daemon.service import NodeService

#: How long an upload waits for a post to name it before it may be dropped.
UPLOAD_KEPT_MS = 3_600_000


@dataclass
class Blobs:
    service: NodeService

    def add_routes(self, api: APIRouter) -> None:
        binary = {"schema": {"type": "string", "format": "binary"}}
        raw = {
            MAX_BODY_KEY: limits.MAX_ATTACHMENT_BYTES,
            "requestBody": {"required": True, "content": {kind: binary for kind in sorted(limits.ATTACHMENT_TYPES)}},
        }
        api.add_api_route("/v1/blobs", self.upload, methods=["POST"], status_code=201, openapi_extra=raw)
        api.add_api_route("/v1/blobs/{sha256}", self.download, methods=["GET"], response_class=Response)

    async def upload(self, request: Request) -> Json:
        """Takes an attachment's bytes (its type in Content-Type, checked against the bytes)."""
        data = await request.body()
        mime = request.headers.get("content-type", "").split(";")[0].strip()
        if mime not in limits.ATTACHMENT_TYPES:
            raise HttpError(415, f"attachments are {', '.join(sorted(limits.ATTACHMENT_TYPES))}, not {mime!r}")
        policy = self.service.view.attachment_caps_at(self.service.now_ms())
        if not 0 < len(data) <= policy.max_attachment_bytes:
            raise HttpError(
                413, f"the community allows attachments of at most {policy.max_attachment_bytes // 1024} KiB"
            )
        wrong = media.mismatch(mime, data)
        if wrong is not None:
            raise HttpError(415, f"{wrong}: an attachment's type is checked by its bytes")
        sha256 = hashlib.sha256(data).digest()
        self.service.store.blobs.put(sha256, mime, data, self.service.now_ms() + UPLOAD_KEPT_MS)
        return Json({"sha256": sha256.hex(), "size": len(data), "mime": mime}, 201)

    async def download(self, sha256: str) -> Response:
        """An attachment's bytes, served so that a browser never runs them as a page."""
        digest = parse_id(sha256, "blob hash")
        held = self.service.store.blobs.get(digest)
        if held is None:
            raise HttpError(404, "this node does not hold that attachment (yet)")
        headers = {**COMMON_HEADERS, **media.serving_headers(held[0], held[1], digest.hex())}
        return Response(held[1], 200, headers)
