"""Per-member rate limiting: a token bucket per member, driven by the caller's clock.

Gossipsub's own limiter counts per topic and drops silently, punishing a whole
community for one member's flood; this one counts per member and reports the refusal as a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from node.core import limits


@dataclass
class RateLimiter:
    burst: int = limits.RATE_BURST
    per_second: float = limits.RATE_PER_SECOND
    _buckets: dict[str, tuple[float, int]] = field(default_factory=dict)  # member -> (tokens, at_ms)

    def allow(self, member: str, now_ms: int) -> bool:
        """Takes one token for ``member`` if there is one."""
        tokens, at = self._buckets.get(member, (float(self.burst), now_ms))
        tokens = min(float(self.burst), tokens + max(0, now_ms - at) / 1000 * self.per_second)
        if tokens < 1:
            self._buckets[member] = (tokens, now_ms)
            return False
        self._buckets[member] = (tokens - 1, now_ms)
        return True
