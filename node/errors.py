"""One error tree for the node. Every error is expected in normal operation and its message is a
sentence a member can act on."""

from __future__ import annotations


class NodeError(Exception):
    """Base of every node error."""


class ConfigError(NodeError):
    """The node's home, configuration or key files are missing or unusable."""


class ApiError(NodeError):
    """The local API refused a request or cannot be reached (for the CLI)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class PublishError(NodeError):
    """A message this node's member wrote was refused by the node's own validation."""
