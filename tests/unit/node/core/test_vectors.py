"""The implementation agrees with the published test vectors (node/spec/vectors.json).

The view, the time and the stored messages are rebuilt from the JSON file alone, as a second
implementation would, so this test checks the file as much as the code.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from node.core.encoding import decode
from node.core.signing import DOMAIN
from node.core.types import AppKey, Community
from node.core.validation import Context, Via, validate
from node.core.verdict import Reason
from node.core.view import CommunityView, KeyRecord, MemberRecord

from . import vectors_gen

DOC: dict[str, Any] = json.loads(vectors_gen.PATH.read_text(encoding="utf-8"))


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _view() -> CommunityView:
    spec = DOC["view"]
    view = CommunityView(chain_time_ms=spec["complete_until_ms"])
    for m in spec["members"]:
        view.members[m["address"]] = MemberRecord(m["address"], [(s, e) for s, e in m["intervals"]])
    for k in spec["keys"]:
        key = AppKey(_bytes(k["key"]))
        view.keys[key] = KeyRecord(key, k["owner"], k["added_ms"], k["revoked_ms"])
    view.hidden.update(_bytes(h) for h in spec["hidden"])
    return view


def test_the_committed_vectors_are_what_the_generator_makes() -> None:
    assert vectors_gen.PATH.read_text(encoding="utf-8") == vectors_gen.render(), (
        "node/spec/vectors.json is stale: python -m tests.unit.node.core.vectors_gen --write"
    )


def test_the_topics_are_the_nodes() -> None:
    """kiez/1/<chain id>/<contract, 0x and lowercase hex>, and /<room id> after it for a room."""
    contract = DOC["community"]["contract"]
    assert DOC["topics"]["general"] == f"kiez/1/{DOC['community']['chain_id']}/{contract}"
    assert DOC["topics"]["room_topic"] == DOC["topics"]["general"] + "/" + DOC["topics"]["room"]
    assert DOC["topics"] == vectors_gen.topics()


def test_vectors_cover_every_outcome() -> None:
    outcomes = {v["expect"]["outcome"] for v in DOC["vectors"]}
    assert outcomes == {"accept", "ignore", "reject"}
    assert DOC["domain_prefix"] == DOMAIN.decode()


@pytest.mark.parametrize("vector", DOC["vectors"], ids=[v["name"] for v in DOC["vectors"]])
def test_vector(vector: dict[str, Any]) -> None:
    community = Community(DOC["community"]["chain_id"], _bytes(DOC["community"]["contract"]))
    ctx = Context(community, DOC["now_ms"], Via(vector["via"]))
    verdict = validate(_bytes(vector["envelope"]), ctx, _view(), vectors_gen.known_of(vector["known"]))
    expect = vector["expect"]
    assert verdict.outcome.value == expect["outcome"], str(verdict)
    assert (verdict.reason.value if verdict.reason else None) == expect["reason"]
    if "id" in expect:
        message = decode(_bytes(vector["envelope"]))
        assert "0x" + message.id.hex() == expect["id"]
        assert "0x" + message.signed.hex() == expect["signed"]
        assert "0x" + message.signature.hex() == expect["signature"]
        assert (message.kind.label, message.timestamp_ms) == (expect["kind"], expect["timestamp_ms"])


@pytest.mark.parametrize("reason", list(Reason), ids=[r.value for r in Reason])
def test_the_spec_names_every_reason(reason: Reason) -> None:
    spec = (vectors_gen.PATH.parent / "wire-format.md").read_text(encoding="utf-8")
    assert f"`{reason.value}`" in spec.split("## 6. Conflicts")[0]  # in the validation section or before
