"""``python -m node.cli``: the same as ``kiez`` (the harness starts node processes this way)."""

from node.cli import main

main()
