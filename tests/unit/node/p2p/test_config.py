from __future__ import annotations

import dataclasses

import pytest

from node.core import limits
from node.p2p.config import PY_LIBP2P_MAX_RPC_BYTES, RPC_ENVELOPE_HEADROOM, GossipConfig


def test_defaults_are_valid_and_tuned_for_small_communities() -> None:
    config = GossipConfig()
    config.validate()
    assert config.mesh_degree_low <= config.mesh_degree < 6 <= config.mesh_degree_high
    assert config.heartbeat_interval_s == 1
    assert not config.adaptive_gossip
    assert not config.spam_protection
    assert config.max_message_size == 2 * limits.MAX_MESSAGE_BYTES
    assert config.seen_ttl_s > config.gossip_history * config.heartbeat_interval_s
    # scoring bites: a burst of rejects graylists a peer before the ledger bans it
    assert config.graylist_threshold < config.gossip_threshold < 0
    assert config.rejects_to_graylist() < config.max_strikes


def test_config_is_frozen() -> None:
    config = GossipConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.mesh_degree = 8  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"mesh_degree": 0}, "mesh_degree must be at least 1"),
        ({"mesh_degree_low": 0}, "mesh_degree_low"),
        ({"mesh_degree_low": 5}, "mesh_degree_low"),
        ({"mesh_degree_high": 3}, "mesh_degree_high"),
        ({"heartbeat_interval_s": 0}, "heartbeat_interval_s"),
        ({"adaptive_gossip": True}, "30-60 s"),
        ({"spam_protection": True}, "10/s"),
        ({"gossip_window": 0}, "gossip_window"),
        ({"gossip_window": 6}, "gossip_window"),
        ({"seen_ttl_s": 5}, "seen_ttl_s"),
        ({"max_message_size": 0}, "max_message_size"),
        ({"max_message_size": 1024 * 1024}, "max_message_size"),
        ({"backpressure_max_wait_s": 0}, "backpressure_max_wait_s"),
        ({"validation_timeout_s": 2.0}, "validation_timeout_s"),
        ({"publish_backpressure_at": 0}, "publish_backpressure_at"),
        ({"publish_backpressure_at": 32}, "32 slots"),
        ({"stall_memory_s": 1.0}, "stall_memory_s"),
        ({"behaviour_penalty_weight": 0.0}, "behaviour_penalty_weight must be positive"),
        ({"behaviour_penalty_grace": -1.0}, "behaviour_penalty_grace"),
        ({"graylist_threshold": -1.0}, "graylist_threshold"),
        ({"gossip_threshold": 0.0}, "gossip_threshold"),
        ({"score_decay": 1.0}, "score_decay"),
        ({"score_decay_interval_s": 0.0}, "score_decay_interval_s"),
        ({"max_strikes": 12}, "max_strikes .12. must exceed the 12 rejects"),
        ({"ban_s": 0.0}, "ban_s"),
        ({"strike_window_s": 0.0}, "strike_window_s"),
        ({"subscription_burst": 0}, "subscription_burst"),
    ],
)
def test_validate_names_the_bad_value(changes: dict[str, object], complaint: str) -> None:
    config = dataclasses.replace(GossipConfig(), **changes)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=complaint):
        config.validate()


def test_a_bigger_community_may_raise_the_degree() -> None:
    GossipConfig(mesh_degree=6, mesh_degree_low=4, mesh_degree_high=12).validate()


def test_the_gossip_cap_derives_from_the_protocols_envelope_limit() -> None:
    """One source for the number: the gossip cap follows node.core.limits.MAX_MESSAGE_BYTES. Every
    envelope the protocol allows passes it; data far beyond the limit never reaches validation;
    and a whole RPC carrying a message at the cap stays within what py-libp2p reads."""
    cap = GossipConfig().max_message_size
    assert limits.MAX_MESSAGE_BYTES < cap <= 2 * limits.MAX_MESSAGE_BYTES
    assert cap + RPC_ENVELOPE_HEADROOM <= PY_LIBP2P_MAX_RPC_BYTES
