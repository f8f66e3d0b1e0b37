"""The parts of ``scripts/bench_gossip.py`` (the entry point), one concept a module: ``common``
(output, clock, message size), ``figures`` (steps, runs, percentiles), ``swarm`` (what a network
offers the benchmark, and the kiez network), ``js`` (the js-libp2p reference network), ``sweep``
(publishing at a rate and measuring deliveries), ``profile`` (py-spy), ``runs`` (the loopback and
network-namespace runs) and ``report`` (the figures and the summary)."""
