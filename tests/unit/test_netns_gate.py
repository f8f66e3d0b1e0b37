"""The gate of the network-namespace tests (tests/conftest.py): they run where namespaces work;
elsewhere they are skipped with a sentence saying why and how to run them, unless
KIEZ_REQUIRE_NETNS=1 (CI as root), where that sentence fails them."""

from __future__ import annotations

from tests.conftest import netns_verdict


def test_namespace_tests_run_where_namespaces_work() -> None:
    assert netns_verdict(None, required=True) is None
    assert netns_verdict(None, required=False) is None


def test_elsewhere_they_are_skipped_with_a_sentence_saying_why_and_how() -> None:
    verdict = netns_verdict("network namespaces need root", required=False)
    assert verdict is not None
    action, sentence = verdict
    assert action == "skip"
    assert "network namespaces need root" in sentence
    assert "./scripts/test.sh as root" in sentence


def test_kiez_require_netns_turns_the_skip_into_a_failure() -> None:
    verdict = netns_verdict("ip and iptables not installed", required=True)
    assert verdict is not None
    action, sentence = verdict
    assert action == "fail"
    assert "ip and iptables not installed" in sentence
    assert "KIEZ_REQUIRE_NETNS=1" in sentence
