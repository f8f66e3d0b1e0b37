"""Generates node/spec/blob-vectors.json: the frames of ``/kiez/blob/1.0.0`` (spec section 13) for a
blob a node holds, one it does not hold, and a request it refuses.

``python -m tests.unit.node.core.blob_vectors_gen --write`` rewrites the file;
tests/integration/node/blobs/test_blob_vectors.py asks a real node for each and compares bytes.
The blob is the picture that vectors.json's post-with-attachment names (9 bytes, image/png).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgpack

from tests.unit.node.core import vectorfile
from tests.unit.node.core.vectorfile import hexed

PATH = vectorfile.SPEC / "blob-vectors.json"
BLOB = b"a picture"
MIME = "image/png"
#: What a client reads at most as a response: the largest attachment and room for the rest.
MAX_RESPONSE = 2 * 1024 * 1024 + 1024


def frame(value: Any) -> bytes:
    body: bytes = msgpack.packb(value, use_bin_type=True)
    return len(body).to_bytes(4, "big") + body


def build() -> dict[str, Any]:
    held, missing = hashlib.sha256(BLOB).digest(), hashlib.sha256(b"a blob nobody holds").digest()
    return {
        "format": "kiez-blob-vectors/1",
        "about": "Frames of /kiez/blob/1.0.0 (node/spec/wire-format.md section 13): one request and one response "
        "per stream, each a 4-byte big-endian length and msgpack. 'response' null: the node answers nothing and "
        "closes the stream.",
        "held": {"sha256": hexed(held), "mime": MIME, "data": hexed(BLOB)},
        "exchanges": [
            {"name": "found", "request": hexed(frame([held])), "response": hexed(frame([True, MIME, BLOB]))},
            {"name": "not-found", "request": hexed(frame([missing])), "response": hexed(frame([False, "", b""]))},
            {"name": "short-hash", "request": hexed(frame([held[:31]])), "response": hexed(frame([False, "", b""]))},
            {"name": "not-a-hash", "request": hexed(frame(["0x" + held.hex()])), "response": None},
            {"name": "two-hashes", "request": hexed(frame([held, missing])), "response": None},
        ],
    }


def render() -> str:
    return vectorfile.render(build())


if __name__ == "__main__":
    vectorfile.main(PATH, render)
