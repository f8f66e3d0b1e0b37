"""Everything kiez changes inside py-libp2p 0.8.1, in one place, and only on that release.

py-libp2p loses messages, wastes CPU or weakens the defence with some of its internals (see
ARCHITECTURE.md, "py-libp2p facts"). What kiez does about it reaches into private methods and
attributes that any release may change, so it lives here, each patch naming the upstream issue it
stands for (or, where there is none, the upstream behaviour it works around):

- ``yamux.install_yamux_credit``: receive credit once per half window, as go-yamux (py-libp2p#1269);
- ``framing.send_loop`` and ``framing.BufferedStream``: a peer's queued RPCs merged into one write,
  inbound pubsub streams read a yamux read at a time (py-libp2p#891/#1263 write one RPC per frame);
- ``caches.ContentIdMessageCache``: IHAVE/IWANT keyed by our message id (mcache ignores ``msg_id_fn``);
- ``caches.NoVerdictCache``: no 300 s verdict cache (an IGNORE must mean "ask again");
- ``scorer.KiezScorer``: go's DecayInterval and DecayToZero (py-libp2p#871), gates without
  arithmetic for unpenalised peers;
- ``pubsub.KiezPubsub``: graylist/ban gate, subscription budget, nanosecond seqnos, duplicates
  dropped before a task is spawned (py-libp2p#871);
- ``pubsub.KiezGossipSub``: graylist/ban gate on control RPCs (py-libp2p#871), signed peer record
  only in the hello and not rebuilt per message (py-libp2p#889 put it in every RPC), one RPC object
  queued for every peer instead of a copy each;
- ``pubsub.InboundStreams``: pubsub stream readers in our nursery (they run in the swarm's tasks),
  and each new message a plain task there instead of a task of py's service manager;
- ``swarm.BanNotifee``: refuse a banned peer's connections (no peer-id gater; py-libp2p#706);
- ``swarm.stop_auto_connector`` and ``swarm.forget_failed_dial``: dialing in one place only;
- ``relay.MembersOnlyCircuitV2``: circuit relay v2 hop for members' nodes only, a relay-wide
  circuit cap, counters (upstream's hop serves any peer and caps circuits per reservation only);
- ``dcutr.KiezDCUtR``: hole punching told the public address the dial-back saw (upstream asks
  identify's observed-address manager, which a kiez host does not run);
- ``inbound.InboundGate``: the swarm's inbound handler, which kept an inbound slot taken after its
  connection closed and let idle sockets hold every slot; handshakes admitted per ``admission``.

``require_supported_libp2p()`` compares the installed version with ``SUPPORTED_VERSION`` once and
raises ``UnsupportedLibp2p`` on any other; ``open_host`` and ``open_gossip`` call it first.
"""

from __future__ import annotations

import importlib.metadata

from node.p2p.errors import UnsupportedLibp2p

#: The py-libp2p release every patch in this package was written against and tested with.
SUPPORTED_VERSION = "0.8.1"
#: Read once, when the package is first imported.
INSTALLED_VERSION = importlib.metadata.version("libp2p")


def require_supported_libp2p() -> None:
    """Raise ``UnsupportedLibp2p`` unless the installed py-libp2p is ``SUPPORTED_VERSION``."""
    if INSTALLED_VERSION != SUPPORTED_VERSION:
        raise UnsupportedLibp2p(INSTALLED_VERSION, SUPPORTED_VERSION)
