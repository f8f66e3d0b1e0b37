"""Gossipsub peer-score parameters from our configuration (config.py says why each number).

Only P5, the behaviour penalty, counts: each REJECT +1, halving every ``score_decay_interval_s``
(libp2p_compat/scorer.py decays on go's DecayInterval and drops what decayed away). Below
``gossip_threshold`` py stops forwarding messages to the peer (gossipsub.py
``_get_peers_to_send``); below ``graylist_threshold`` the peer is graylisted (defence.py).
"""

from __future__ import annotations

import math

from libp2p.pubsub.score import ScoreParams, TopicScoreParams

from node.p2p.config import GossipConfig


def score_params(config: GossipConfig) -> ScoreParams:
    """Gossipsub score parameters from our configuration.

    Topic counters (P1-P4) keep weight 0 but decay like P5, so ``KiezScorer`` can forget them.
    The publish threshold equals the graylist threshold: py-libp2p 0.8.1 applies it to *incoming*
    messages (pubsub.py ``push_msg``), which is the graylist's job in the spec.
    """
    counter = TopicScoreParams(weight=0.0, cap=0.0, decay=config.score_decay)
    return ScoreParams(
        p1_time_in_mesh=counter,
        p2_first_message_deliveries=counter,
        p3_mesh_message_deliveries=counter,
        p4_invalid_messages=counter,
        p5_behavior_penalty_weight=config.behaviour_penalty_weight,
        p5_behavior_penalty_decay=config.score_decay,
        p5_behavior_penalty_threshold=config.behaviour_penalty_grace,
        gossip_threshold=config.gossip_threshold,
        publish_threshold=config.graylist_threshold,
        graylist_threshold=config.graylist_threshold,
        # Peer exchange is off (do_px=False); refuse any PX a pruning peer sends anyway.
        accept_px_threshold=math.inf,
    )
