"""Sending a call the way a generic Ethereum tool does: plain web3 and eth-account, no kiez client."""

from __future__ import annotations

from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3 import Web3

#: Headroom over the node's estimate, as wallets add. An admission records a checkpoint of the
#: electorate: in the second of the last change it rewrites a slot, in a later one it fills a fresh
#: slot (about 22k gas more). Anvil mines many blocks within one second, so an exact estimate made
#: in that second and mined in the next runs out of gas.
HEADROOM = 40_000


def send(w3: Web3, account: LocalAccount, call: Any) -> Any:
    """Builds, signs and sends one contract call; returns the mined receipt, which must succeed."""
    tx = call.build_transaction({"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})
    tx["gas"] = int(tx["gas"]) + HEADROOM
    signed = account.sign_transaction(cast(Any, tx))
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1, f"{call.fn_name} reverted: {receipt}"
    return receipt
