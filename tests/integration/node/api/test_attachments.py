"""An upload is judged by its bytes, and an attachment is served so that no browser runs it as a
page: a member's HTML file sent as ``image/png`` is refused, and what is served says nosniff, a
sandboxing policy and a disposition (pictures inline, anything else downloaded)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.anvil import Anvil
from node.errors import ApiError
from node.harness.process import NodeProcess

from .conftest import start_member_node

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"0" * 500
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 500
PAGE = b"<!doctype html><html><script>fetch('/v1/status')</script></html>"


@pytest.fixture(scope="module")
def node(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    running = start_member_node(anvil, Path(tmp_path_factory.mktemp("attachments")))
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("data", "claimed", "why"),
    [
        (PAGE, "image/png", "the bytes are not image/png"),
        (JPEG, "image/png", "the bytes are image/jpeg, not image/png"),
        (PNG, "application/pdf", "the bytes are image/png, not application/pdf"),
        (PAGE, "text/html", "attachments are application/pdf, image/gif"),
    ],
)
def test_an_upload_whose_bytes_are_not_its_type_is_refused(
    node: NodeProcess, data: bytes, claimed: str, why: str
) -> None:
    with pytest.raises(ApiError, match=why) as refused:
        node.api.upload(data, claimed)
    assert refused.value.status == 415


def _fetch(node: NodeProcess, sha256: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", node.config.api_port, timeout=30)
    connection.request("GET", f"/v1/blobs/{sha256}", headers={"Authorization": f"Bearer {node.api.token.decode()}"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


@pytest.mark.parametrize(
    ("data", "mime", "disposition"),
    [(PNG, "image/png", "inline"), (JPEG, "image/jpeg", "inline"), (PDF, "application/pdf", "attachment")],
)
def test_attachments_are_served_never_to_be_sniffed_or_run(
    node: NodeProcess, data: bytes, mime: str, disposition: str
) -> None:
    sha256 = node.api.upload(data, mime)["sha256"]
    answer = _fetch(node, sha256)
    assert answer.status == 200
    assert answer.getheader("content-type") == mime
    assert answer.getheader("x-content-type-options") == "nosniff"
    assert answer.getheader("content-security-policy") == "default-src 'none'; sandbox"
    assert answer.getheader("content-disposition", "").startswith(f'{disposition}; filename="{sha256[:16]}.')
    assert node.api.download(sha256) == (mime, data)
