"""Following the community contract from the node: ``ChainWatcher``."""

from node.chain.watcher import ChainStatus, ChainWatcher, WatcherConfig

__all__ = ["ChainStatus", "ChainWatcher", "WatcherConfig"]
