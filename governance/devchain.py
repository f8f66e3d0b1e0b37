"""A community on a local chain, founded by Anvil's dev accounts: what the devnet, the tests and
``scripts/devchain.py`` all start from, so they exercise the same path a user's deployment takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.client import CommunityClient, deploy_community
from governance.types import Address, Rules

#: Rules for a devnet: the shortest voting period the contract allows, so a scenario that waits
#: for a deadline (or skips past it with Anvil's clock) stays quick.
DEVNET_RULES = Rules(quorum_pct=50, threshold_pct=50, voting_period=Rules.MIN_VOTING_PERIOD)


@dataclass(frozen=True)
class DevCommunity:
    """A deployed dev community: the chain, the contract, and who founded it."""

    rpc_url: str
    chain_id: int
    address: Address
    founders: tuple[LocalAccount, ...]

    def client(self, account: LocalAccount | None = None) -> CommunityClient:
        return CommunityClient.connect(self.rpc_url, self.address, account)


def deploy_dev_community(
    anvil: Anvil,
    *,
    founders: int = 3,
    name: str = "kiez devnet",
    rules: Rules = DEVNET_RULES,
    deployer_index: int = 9,
) -> DevCommunity:
    """Deploys a community whose founders are dev accounts 0..founders-1 (the deployer is
    account 9 by default, so it is not a member: deploying grants nothing)."""
    accounts = tuple(dev_account(i) for i in range(founders))
    client = deploy_community(
        anvil.web3(), dev_account(deployer_index), name, [a.address for a in accounts], rules=rules
    )
    return DevCommunity(anvil.rpc_url, client.chain_id, client.address, accounts)
