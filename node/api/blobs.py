"""Attachments: uploading a picture's bytes before a post names it by hash, and reading one back.

The store forgets the bytes of blobs no visible post names; an upload is spared that for a while
(``UPLOAD_KEPT_MS``) so a member can upload first and write the post after.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from node.api.http import HttpError, Response
from node.api.params import parse_id
from node.api.router import Call, Route, Takes
from node.core import limits, media
from node.daemon.service import NodeService

#: How long an upload waits for a post to name it before it may be dropped.
UPLOAD_KEPT_MS = 3_600_000


@dataclass
class Blobs:
    service: NodeService

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/v1/blobs", self.upload, Takes.RAW),
            Route("GET", "/v1/blobs/{sha256}", self.download),
        ]

    async def upload(self, call: Call) -> Response:
        request = call.request
        mime = request.headers.get("content-type", "").split(";")[0].strip()
        if mime not in limits.ATTACHMENT_TYPES:
            raise HttpError(415, f"attachments are {', '.join(sorted(limits.ATTACHMENT_TYPES))}, not {mime!r}")
        policy = self.service.view.attachment_caps_at(self.service.now_ms())
        if not 0 < len(request.body) <= policy.max_attachment_bytes:
            raise HttpError(
                413, f"the community allows attachments of at most {policy.max_attachment_bytes // 1024} KiB"
            )
        wrong = media.mismatch(mime, request.body)
        if wrong is not None:
            raise HttpError(415, f"{wrong}: an attachment's type is checked by its bytes")
        sha256 = hashlib.sha256(request.body).digest()
        self.service.store.blobs.put(sha256, mime, request.body, self.service.now_ms() + UPLOAD_KEPT_MS)
        return Response(201, {"sha256": sha256.hex(), "size": len(request.body), "mime": mime})

    async def download(self, call: Call) -> Response:
        sha256 = parse_id(call.params["sha256"], "blob hash")
        held = self.service.store.blobs.get(sha256)
        if held is None:
            raise HttpError(404, "this node does not hold that attachment (yet)")
        return Response(200, held[1], media.serving_headers(held[0], held[1], sha256.hex()), raw=True)
