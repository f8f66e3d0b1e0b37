"""``kiez join INVITE --guest`` refuses, with a sentence and before it touches anything, what it
cannot use: a text that is no invite, an invite past its expiry, an --intro (a guest files no
request), and a home that holds another community's node or a member's. The working path, over
a real chain and real nodes, is in the integration tests of joining."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner, Result
from eth_account import Account
from eth_utils.address import to_checksum_address

from governance.ballot import BallotDomain
from governance.invitations import Invitation, sign_invitation
from governance.types import Address
from node.cli import main
from node.config import NodeConfig
from node.core.invite import Invite, encode_invite

CONTRACT = bytes(range(20))


def _invite(expires_in_s: int, contract: bytes = CONTRACT) -> str:
    account = Account.create()
    domain = BallotDomain("kiez test", 31337, Address(to_checksum_address(contract)))
    invitation = Invitation(Address(account.address), 7, int(time.time()) + expires_in_s, 1)
    signed = sign_invitation(account, domain, invitation)
    return encode_invite(Invite(31337, contract, "http://127.0.0.1:1", (), signed.to_bytes()))


def _join(*args: str) -> Result:
    return CliRunner().invoke(main, ["join", *args], env={"KIEZ_HOME": None, "KIEZ_PASSWORD": "pw"})


def test_a_text_that_is_no_invite_is_refused(tmp_path: Path) -> None:
    result = _join("https://example.org/join", "--guest", "--home", str(tmp_path / "g"))
    assert result.exit_code == 1
    assert "starts with 'kiez:'" in result.output
    assert not (tmp_path / "g").exists()


def test_an_expired_invite_is_refused_and_nothing_is_made(tmp_path: Path) -> None:
    result = _join(_invite(-60), "--guest", "--home", str(tmp_path / "g"))
    assert result.exit_code == 1
    assert "this invite expired at" in result.output
    assert "ask a member for a new one" in result.output
    assert not (tmp_path / "g").exists()


def test_an_invite_naming_no_node_is_refused(tmp_path: Path) -> None:
    result = _join(_invite(3600), "--guest", "--home", str(tmp_path / "g"))
    assert result.exit_code == 1
    assert "names no member's node to dial" in result.output
    assert not (tmp_path / "g").exists()


def test_a_guest_files_no_request_and_a_member_must_say_who_they_are(tmp_path: Path) -> None:
    guest = _join(_invite(3600), "--guest", "--intro", "me", "--home", str(tmp_path / "g"))
    assert guest.exit_code == 2
    assert "--guest files no join request: leave out --intro" in guest.output
    member = _join(_invite(3600), "--home", str(tmp_path / "m"))
    assert member.exit_code == 2
    assert "--intro is required" in member.output


def test_a_home_of_another_community_or_of_a_member_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "other"
    NodeConfig(home=other, rpc_url="http://127.0.0.1:1", community="0x" + "ab" * 20, chain_id=31337).save()
    result = _join(_invite(3600), "--guest", "--home", str(other))
    assert result.exit_code == 1
    assert "already holds a node of another community" in result.output
    member = tmp_path / "member"
    config = NodeConfig(home=member, rpc_url="http://127.0.0.1:1", community="0x" + CONTRACT.hex(), chain_id=31337)
    config.save()
    config.keystore_path.write_text("{}")
    result = _join(_invite(3600), "--guest", "--home", str(member))
    assert result.exit_code == 1
    assert "holds a member's node" in result.output
    assert config.keystore_path.read_text() == "{}"
