"""The py-libp2p compatibility layer: one version check, explicit and idempotent process-wide patches."""

from __future__ import annotations

import libp2p.pubsub.gossipsub as gossipsub_module
import libp2p.pubsub.pubsub as pubsub_module
import pytest
from libp2p.stream_muxer.yamux.yamux import YamuxStream

from node.errors import NodeError
from node.p2p import P2PError, StreamFailed, UnsupportedLibp2p, libp2p_compat
from node.p2p.libp2p_compat import pubsub, yamux


def test_the_installed_release_is_the_supported_one() -> None:
    assert libp2p_compat.INSTALLED_VERSION == libp2p_compat.SUPPORTED_VERSION
    libp2p_compat.require_supported_libp2p()


def test_another_release_is_refused_with_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libp2p_compat, "INSTALLED_VERSION", "0.9.0")
    with pytest.raises(UnsupportedLibp2p, match=r"py-libp2p 0\.9\.0 is installed.*install libp2p==0\.8\.1"):
        libp2p_compat.require_supported_libp2p()


def test_installing_the_yamux_patch_is_explicit_and_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    original = YamuxStream._auto_tune_and_send_window_update
    monkeypatch.setattr(YamuxStream, "_auto_tune_and_send_window_update", original)  # restored afterwards
    yamux.install_yamux_credit()
    patched = YamuxStream._auto_tune_and_send_window_update
    assert yamux.yamux_credit_installed()
    yamux.install_yamux_credit()
    assert YamuxStream._auto_tune_and_send_window_update is patched


def test_p2p_errors_sit_in_the_node_error_tree() -> None:
    assert issubclass(P2PError, NodeError)
    assert issubclass(StreamFailed, P2PError)
    assert issubclass(UnsupportedLibp2p, P2PError)


def test_the_sender_record_patch_is_idempotent_and_only_touches_gossipsub(monkeypatch: pytest.MonkeyPatch) -> None:
    # pubsub.py keeps the original (the patch never touches it), whichever test built a router first
    original = pubsub_module.env_to_send_in_RPC  # type: ignore[attr-defined]
    monkeypatch.setattr(gossipsub_module, "env_to_send_in_RPC", original)  # restored afterwards
    pubsub.install_known_sender_record()
    patched = gossipsub_module.env_to_send_in_RPC  # type: ignore[attr-defined]
    assert patched is not original
    pubsub.install_known_sender_record()
    assert gossipsub_module.env_to_send_in_RPC is patched  # type: ignore[attr-defined]
    assert pubsub_module.env_to_send_in_RPC is not patched  # type: ignore[attr-defined]  # the hello still re-checks the addresses
