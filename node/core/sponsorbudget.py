"""A sponsoring node's budget: how many newcomers' transactions it pays for per day, and the
highest gas price it accepts.

Pure bookkeeping, so the rule is tested without a chain: ``refusal`` says (in a sentence the
newcomer is shown) why a transaction would break the budget, ``record`` books one that was paid.
Days are UTC days. The ledger keeps the current day's count and the totals since the sponsor
was enabled; ``to_json``/``from_json`` let the node keep it across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GWEI = 10**9
_DAY_S = 86_400


@dataclass(frozen=True)
class SponsorBudget:
    tx_per_day: int
    max_gas_price_wei: int

    @classmethod
    def from_gwei(cls, tx_per_day: int, max_gas_gwei: float) -> SponsorBudget:
        return cls(tx_per_day, int(max_gas_gwei * GWEI))


@dataclass
class SponsorLedger:
    day: int = 0  # the UTC day (unix seconds // 86400) that ``today_tx`` counts
    today_tx: int = 0
    total_tx: int = 0
    total_gas: int = 0
    total_wei: int = 0
    last: list[dict[str, Any]] = field(default_factory=list)  # the newest payments, newest last

    def _roll(self, now_s: float) -> None:
        day = int(now_s) // _DAY_S
        if day != self.day:
            self.day, self.today_tx = day, 0

    def refusal(self, budget: SponsorBudget, now_s: float, gas_price_wei: int) -> str | None:
        """Why paying a transaction now would break ``budget``, or None if it fits."""
        self._roll(now_s)
        if budget.tx_per_day == 0:
            return "this node's sponsoring budget is 0 transactions a day"
        if self.today_tx >= budget.tx_per_day:
            return (
                f"this node has paid for {self.today_tx} transactions today, its budget for the day "
                "(it resets at 00:00 UTC); try another member's node or later"
            )
        if gas_price_wei > budget.max_gas_price_wei:
            return (
                f"the chain's gas price ({gas_price_wei / GWEI:.2f} gwei) is above this node's ceiling "
                f"({budget.max_gas_price_wei / GWEI:.2f} gwei); try again when it is lower"
            )
        return None

    def record(self, now_s: float, what: str, tx_hash: str, gas_used: int, gas_price_wei: int) -> None:
        self._roll(now_s)
        self.today_tx += 1
        self.total_tx += 1
        self.total_gas += gas_used
        self.total_wei += gas_used * gas_price_wei
        self.last = [*self.last, {"what": what, "tx": tx_hash, "gas": gas_used, "at": int(now_s)}][-10:]

    def as_dict(self, now_s: float) -> dict[str, Any]:
        self._roll(now_s)
        return {
            "today_tx": self.today_tx,
            "total_tx": self.total_tx,
            "total_gas": self.total_gas,
            "total_wei": self.total_wei,
            "last": list(self.last),
        }

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day, **self.as_dict(self.day * _DAY_S)}

    @classmethod
    def from_json(cls, raw: Any) -> SponsorLedger:
        """A ledger read back; ``ValueError`` if it is not one (the node then stops sponsoring
        and says so, rather than starting a fresh count that could pay twice for one day)."""
        try:
            last = raw.get("last", [])
            return cls(
                int(raw["day"]),
                int(raw["today_tx"]),
                int(raw["total_tx"]),
                int(raw["total_gas"]),
                int(raw["total_wei"]),
                list(last) if isinstance(last, list) else [],
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ValueError("the sponsor ledger is damaged") from None
