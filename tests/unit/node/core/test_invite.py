"""The kiez: invite text: round trip, either case, and a sentence for every way it can be wrong."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import msgpack
import pytest

from node.core.errors import BadInvite
from node.core.invite import MAX_RECORDS, Invite, decode_invite, encode_invite

SAMPLE = Invite(31337, bytes(range(20)), "http://127.0.0.1:8545", (b"\x01" * 200, b"\x02" * 180), b"\x09" * 150, "hi")


def _text(fields: list[object]) -> str:
    payload = msgpack.packb(fields, use_bin_type=True)
    data = hashlib.sha256(payload).digest()[:4] + payload
    return "kiez:" + base64.b32encode(data).decode().rstrip("=").lower()


def test_an_invite_survives_text_capitals_and_line_breaks() -> None:
    text = encode_invite(SAMPLE)
    assert text.startswith("kiez:")
    assert decode_invite(text) == SAMPLE
    assert decode_invite(text.upper()) == SAMPLE  # as a QR code in alphanumeric mode carries it
    wrapped = "\n".join(text[i : i + 60] for i in range(0, len(text), 60))
    assert decode_invite("  " + wrapped + "\n") == SAMPLE


def test_a_cut_or_mistyped_invite_fails_its_checksum() -> None:
    text = encode_invite(SAMPLE)
    with pytest.raises(BadInvite, match="checksum"):
        decode_invite(text[:-8])
    flipped = text[:40] + ("a" if text[40] != "a" else "b") + text[41:]
    with pytest.raises(BadInvite, match="checksum"):
        decode_invite(flipped)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("https://example.org/join", "starts with 'kiez:'"),
        ("kiez:0189!!", "not base32"),
        ("kiez:" + "a" * 9000, "at most"),
    ],
)
def test_what_is_not_an_invite_is_named(text: str, sentence: str) -> None:
    with pytest.raises(BadInvite, match=sentence):
        decode_invite(text)


def test_a_newer_version_asks_for_an_update() -> None:
    with pytest.raises(BadInvite, match="version 2; this kiez reads version 1: update kiez"):
        decode_invite(_text([2, 1, bytes(20), "http://x", [], b"\x01", ""]))


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ([1, 0, bytes(20), "http://x", [], b"\x01", ""], "chain id"),
        ([1, 1, bytes(19), "http://x", [], b"\x01", ""], "20 bytes"),
        ([1, 1, bytes(20), "ftp://x", [], b"\x01", ""], "RPC hint"),
        ([1, 1, bytes(20), "http://x", [b"r"] * (MAX_RECORDS + 1), b"\x01", ""], "at most 4 fit"),
        ([1, 1, bytes(20), "http://x", [], b"", ""], "invitation is missing"),
        ([1, 1, bytes(20), "http://x", [], b"\x01", "\x1b[2J"], "control characters"),
        ([1, 1, bytes(20), "http://x", [], b"\x01"], "7 fields"),
    ],
)
def test_a_malformed_invite_says_what_is_wrong(fields: list[object], sentence: str) -> None:
    with pytest.raises(BadInvite, match=sentence):
        decode_invite(_text(fields))


def vector_sample() -> Invite:
    """The invite of node/spec/invite-vectors.json."""
    contract = bytes.fromhex("700b6a60ce7eaaea56f065753d8dcb9653dbad35")
    return Invite(31337, contract, "http://127.0.0.1:8545", (bytes(range(40)),), bytes(range(100)), "welcome")


def test_the_spec_vector_is_what_this_code_writes_and_reads() -> None:
    spec = Path(__file__).parents[4] / "node" / "spec" / "invite-vectors.json"
    vector = json.loads(spec.read_text("utf-8"))["vectors"][0]
    sample = vector_sample()
    assert vector["text"] == encode_invite(sample)
    decoded = decode_invite(vector["text"])
    assert decoded == sample
    assert vector["contract"] == decoded.contract_hex
    assert [bytes.fromhex(r) for r in vector["records"]] == list(decoded.records)
