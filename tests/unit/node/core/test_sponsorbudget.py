"""A sponsor's budget: transactions per UTC day and a gas price ceiling, kept across restarts."""

from __future__ import annotations

import pytest

from node.core.sponsorbudget import GWEI, SponsorBudget, SponsorLedger

DAY = 86_400
BUDGET = SponsorBudget.from_gwei(2, 10.0)


def test_the_day_budget_refuses_the_third_and_resets_at_midnight_utc() -> None:
    ledger = SponsorLedger()
    noon = 20_000 * DAY + DAY // 2
    for n in range(2):
        assert ledger.refusal(BUDGET, noon + n, GWEI) is None
        ledger.record(noon + n, "join", f"0x{n}", 100_000, GWEI)
    refusal = ledger.refusal(BUDGET, noon + 10, GWEI)
    assert refusal is not None
    assert "2 transactions today" in refusal
    assert ledger.refusal(BUDGET, 20_001 * DAY + 1, GWEI) is None  # the next UTC day
    assert ledger.as_dict(noon)["total_tx"] == 2
    assert ledger.total_wei == 200_000 * GWEI


def test_a_gas_price_above_the_ceiling_is_refused_with_both_prices() -> None:
    refusal = SponsorLedger().refusal(BUDGET, 0, 25 * GWEI)
    assert refusal is not None
    assert "25.00 gwei" in refusal
    assert "10.00 gwei" in refusal
    assert SponsorLedger().refusal(SponsorBudget.from_gwei(0, 10.0), 0, GWEI) is not None


def test_the_ledger_round_trips_and_a_damaged_one_is_not_mistaken_for_a_fresh_day() -> None:
    ledger = SponsorLedger()
    ledger.record(5 * DAY + 7, "key", "0xab", 50_000, 2 * GWEI)
    again = SponsorLedger.from_json(ledger.to_json())
    assert again.refusal(SponsorBudget.from_gwei(1, 10.0), 5 * DAY + 8, GWEI) is not None
    assert again.total_gas == 50_000
    damaged_ledgers: list[object] = [None, [], {"day": "x"}, {"day": 1}]
    for damaged in damaged_ledgers:
        with pytest.raises(ValueError, match="damaged"):
            SponsorLedger.from_json(damaged)
