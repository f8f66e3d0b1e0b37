"""An attachment's type by its bytes (node.core.media)."""

from __future__ import annotations

import pytest

from node.core import limits, media

SAMPLES = {
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/jpeg": b"\xff\xd8\xff\xdb\x00C",
    "image/gif": b"GIF89a\x01\x00\x01\x00",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "application/pdf": b"%PDF-1.4\n%",
}


def test_every_accepted_type_has_a_signature_and_is_recognised() -> None:
    assert set(SAMPLES) == limits.ATTACHMENT_TYPES
    for mime, data in SAMPLES.items():
        assert media.sniff(data) == mime
        assert media.mismatch(mime, data) is None
    assert media.sniff(b"GIF87a") == "image/gif"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<!doctype html><script>alert(1)</script>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # a RIFF that is not WebP
        b"\x89PNG\r\n",  # a PNG signature cut short
        b"%PDF",
    ],
)
def test_anything_else_is_no_attachment_type(data: bytes) -> None:
    assert media.sniff(data) is None
    assert media.mismatch("image/png", data) == "the bytes are not image/png (nor any attachment type kiez accepts)"


def test_a_type_the_bytes_do_not_bear_out_is_refused_with_what_they_are() -> None:
    assert media.mismatch("image/png", SAMPLES["image/jpeg"]) == "the bytes are image/jpeg, not image/png"
    assert str(media.mismatch("text/html", b"<p>")).startswith("attachments are application/pdf, image/gif")


def test_serving_headers_never_let_a_browser_run_or_sniff_the_bytes() -> None:
    png = media.serving_headers("image/png", SAMPLES["image/png"], "ab" * 32)
    assert png == {
        "content-type": "image/png",
        "x-content-type-options": "nosniff",
        "content-disposition": 'inline; filename="abababababababab.png"',
        "content-security-policy": "default-src 'none'; sandbox",
        "cross-origin-resource-policy": "same-origin",
    }
    pdf = media.serving_headers("application/pdf", SAMPLES["application/pdf"], "cd" * 32)
    assert pdf["content-disposition"] == 'attachment; filename="cdcdcdcdcdcdcdcd.pdf"'
    # stored before the check existed, under a type its bytes are not: opaque bytes, downloaded
    page = media.serving_headers("image/png", b"<!doctype html>", "ef" * 32)
    assert page["content-type"] == "application/octet-stream"
    assert page["content-disposition"] == 'attachment; filename="efefefefefefefef.bin"'
