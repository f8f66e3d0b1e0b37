"""The gates of the network-namespace and browser tests (tests/conftest.py): they run where
namespaces (Chromium) work; elsewhere they are skipped with a sentence saying why and how to run
them, unless KIEZ_REQUIRE_NETNS=1 (KIEZ_REQUIRE_BROWSER=1; CI as root), where that sentence
fails them."""

from __future__ import annotations

import pytest

from tests.conftest import browser_unavailable, browser_verdict, netns_verdict


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


def test_browser_tests_are_gated_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    assert browser_verdict(None, required=True) is None
    skipped = browser_verdict("chromedriver not installed", required=False)
    assert skipped is not None
    assert skipped[0] == "skip"
    assert "chromium-driver" in skipped[1]
    failed = browser_verdict("chromium not installed", required=True)
    assert failed is not None
    assert failed[0] == "fail"
    assert "KIEZ_REQUIRE_BROWSER=1" in failed[1]
    monkeypatch.setenv("PATH", "/nonexistent")
    assert browser_unavailable() == "chromium and chromedriver not installed"
