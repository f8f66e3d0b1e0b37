"""Sponsoring: a member's node pays for invited newcomers' transactions (``/kiez/sponsor/1.0.0``)."""

from node.sponsor.protocol import PROTOCOL, SponsorError, SponsorReply, ask_sponsor
from node.sponsor.service import SponsorService

__all__ = ["PROTOCOL", "SponsorError", "SponsorReply", "SponsorService", "ask_sponsor"]
