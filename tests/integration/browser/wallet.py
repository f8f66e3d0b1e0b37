"""A browser wallet for the tests: an EIP-1193 provider in the page whose answers come from
outside it, as an extension's do. The page's ``window.ethereum.request`` queues each request;
``BridgedWallet.serve`` takes them through WebDriver, answers accounts and the chain id, and
sends transactions to Anvil, whose dev accounts are unlocked (the wallet's key, in effect)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from selenium import webdriver
from web3 import Web3

#: Injected before any of the page's own scripts run (Chrome DevTools'
#: Page.addScriptToEvaluateOnNewDocument), so the page finds a wallet as it would an extension's.
PROVIDER = """
(() => {
  const waiting = new Map();
  const queue = [];
  let next = 0;
  window.ethereum = {
    request({ method, params }) {
      return new Promise((resolve, reject) => {
        next += 1;
        waiting.set(next, { resolve, reject });
        queue.push({ id: next, method, params: params || [] });
      });
    },
  };
  window.kiezTestWallet = {
    take() { return queue.splice(0); },
    answer(id, result, error) {
      const pending = waiting.get(id);
      waiting.delete(id);
      if (!error) { pending.resolve(result); return; }
      const refusal = new Error(error.message);
      refusal.code = error.code;
      pending.reject(refusal);
    },
  };
})();
"""


@dataclass
class BridgedWallet:
    driver: webdriver.Chrome
    w3: Web3
    account: str
    #: Answer the next transaction as a member who clicks "reject" (EIP-1193 error 4001).
    decline: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def install(cls, driver: webdriver.Chrome, w3: Web3, account: str) -> BridgedWallet:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROVIDER})
        driver.refresh()
        return cls(driver, w3, account)

    def serve(self) -> bool:
        """Answers every request the page made since the last call; always False, so it can
        lead a wait's check (``wallet.serve() or done()``)."""
        for request in cast(list[dict[str, Any]], self.driver.execute_script("return window.kiezTestWallet.take()")):
            result, error = self._answer(request["method"], request["params"])
            self.driver.execute_script("window.kiezTestWallet.answer(...arguments)", request["id"], result, error)
        return False

    def _answer(self, method: str, params: list[Any]) -> tuple[object, dict[str, object] | None]:
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [self.account], None
        if method == "eth_chainId":
            return hex(self.w3.eth.chain_id), None
        if method == "eth_sendTransaction":
            if self.decline:
                self.decline = False
                return None, {"code": 4001, "message": "User rejected the request."}
            tx = dict(params[0])
            self.sent.append(tx)
            tx["gas"], tx["value"] = int(tx["gas"], 16), int(tx["value"], 16)
            return "0x" + bytes(self.w3.eth.send_transaction(cast(Any, tx))).hex(), None
        return None, {"code": 4200, "message": f"this test wallet does not support {method}"}
