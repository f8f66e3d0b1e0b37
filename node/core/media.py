"""What an attachment's bytes are, judged by the bytes and never by what a sender says they are.

A member's upload and a peer's answer both name a media type; a browser that trusted that name
could be made to run an uploaded HTML page as the node's own. So the node accepts bytes only when
their leading signature is the one of the type they claim (and the type is one of
``limits.ATTACHMENT_TYPES``), and serves them so that no browser second-guesses it
(``serving_headers``). The five signatures are the formats' own fixed magic numbers; a general
file-type library would answer for hundreds of formats we refuse anyway.
"""

from __future__ import annotations

from node.core import limits

#: Each accepted type's signatures: any one of them identifies it, and a signature is a set of
#: (offset, bytes) parts that must all be there (WebP: a RIFF container whose form is WEBP).
_SIGNATURES: dict[str, tuple[tuple[tuple[int, bytes], ...], ...]] = {
    "image/png": (((0, b"\x89PNG\r\n\x1a\n"),),),
    "image/jpeg": (((0, b"\xff\xd8\xff"),),),
    "image/gif": (((0, b"GIF87a"),), ((0, b"GIF89a"),)),
    "image/webp": (((0, b"RIFF"), (8, b"WEBP")),),
    "application/pdf": (((0, b"%PDF-"),),),
}
#: File name endings for the download name.
#: (A unit test checks that every type of ``limits.ATTACHMENT_TYPES`` has its signature here.)
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


def sniff(data: bytes) -> str | None:
    """The accepted media type ``data`` is, by its leading bytes, or None."""
    for mime in sorted(_SIGNATURES):
        if _matches(mime, data):
            return mime
    return None


def _matches(mime: str, data: bytes) -> bool:
    return any(all(data[at : at + len(magic)] == magic for at, magic in parts) for parts in _SIGNATURES[mime])


def mismatch(claimed: str, data: bytes) -> str | None:
    """Why ``data`` may not be kept as ``claimed`` (one sentence), or None when it may."""
    if claimed not in limits.ATTACHMENT_TYPES:
        return f"attachments are {', '.join(sorted(limits.ATTACHMENT_TYPES))}, not {claimed!r}"
    actual = sniff(data)
    if actual == claimed:
        return None
    if actual is None:
        return f"the bytes are not {claimed} (nor any attachment type kiez accepts)"
    return f"the bytes are {actual}, not {claimed}"


def serving_headers(claimed: str, data: bytes, sha256_hex: str) -> dict[str, str]:
    """Response headers for an attachment: its type only when the bytes bear it out (else a
    download of opaque bytes), never sniffed by the browser, never run as a page, and pictures
    inline while anything else is downloaded."""
    shown = claimed if mismatch(claimed, data) is None else "application/octet-stream"
    inline = shown.startswith("image/")
    name = f"{sha256_hex[:16]}.{_EXTENSIONS.get(shown, 'bin')}"
    return {
        "content-type": shown,
        "x-content-type-options": "nosniff",
        "content-disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
        "content-security-policy": "default-src 'none'; sandbox",
        "cross-origin-resource-policy": "same-origin",
    }
