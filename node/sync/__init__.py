"""Sync: ``/kiez/sync/1.0.0``, range-based set reconciliation with each peer, so a node that was
offline fetches what it missed with bytes in proportion to the difference (the pure protocol is
``node.core.reconcile`` and ``node.core.syncwire``, what a session and a peer may cost is
``node.core.syncbudget``)."""
