"""The composition root: ``service`` joins the pure core to the store (submit, on_gossip,
on_chain) and ``runner`` assembles one node process from every part under one trio nursery."""
