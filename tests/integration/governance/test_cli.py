"""`kiez gov` end to end against the real Anvil: what a voter types, what they read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.devchain import DevCommunity
from governance.types import MediaPolicy
from node.cli import main

NEWCOMER = dev_account(3).address


class Kiez:
    """Runs `kiez` in-process with a connection environment, like a shell with exports."""

    def __init__(self, anvil: Anvil, community: str | None) -> None:
        self.env = {"KIEZ_RPC": anvil.rpc_url, "KIEZ_COMMUNITY": community or "", "KIEZ_PASSWORD": ""}
        self.runner = CliRunner()

    def __call__(self, *args: str, account: int | None = None, ok: bool = True) -> Result:
        env = dict(self.env)
        env["KIEZ_DEV_ACCOUNT"] = "" if account is None else str(account)
        result = self.runner.invoke(main, list(args), env={k: v or None for k, v in env.items()})
        if ok:
            assert result.exit_code == 0, f"kiez {' '.join(args)} failed:\n{result.output}"
        else:
            assert result.exit_code == 1, f"kiez {' '.join(args)} should have failed:\n{result.output}"
        return result

    def json(self, *args: str, account: int | None = None) -> Any:
        return json.loads(self(*args, "--json", account=account).output)


@pytest.fixture
def kiez(anvil: Anvil, community: DevCommunity) -> Kiez:
    return Kiez(anvil, community.address)


def test_help_lists_every_command() -> None:
    output = CliRunner().invoke(main, ["gov", "--help"]).output
    for name in ("deploy", "members", "join-request", "propose", "proposals", "show", "vote", "execute", "keys"):
        assert f"  {name} " in output
    propose_help = CliRunner().invoke(main, ["gov", "propose", "--help"]).output
    for kind in (
        "add-member",
        "remove-member",
        "hide-post",
        "unhide-post",
        "change-rules",
        "set-charter",
        "grant-moderator",
        "revoke-moderator",
        "set-media-policy",
    ):
        assert kind in propose_help


def test_deploy_a_community_from_the_cli(anvil: Anvil, tmp_path: Path) -> None:
    charter = tmp_path / "charter.txt"
    charter.write_text("Be kind.")
    founders = [dev_account(i).address for i in (4, 5)]
    cli = Kiez(anvil, None)
    data = cli.json(
        "gov",
        "deploy",
        "--name",
        "Gartenkiez",
        "--founder",
        founders[0],
        "--founder",
        founders[1],
        "--quorum",
        "60",
        "--voting-period",
        "2d",
        "--charter",
        str(charter),
        account=9,
    )
    cli.env["KIEZ_COMMUNITY"] = data["address"]
    info = cli.json("gov", "info")
    assert info["name"] == "Gartenkiez"
    assert info["members"] == 2
    assert info["rules"] == {"quorum_pct": 60, "threshold_pct": 50, "voting_period": 172800}
    members = cli.json("gov", "members")
    assert [m["address"] for m in members] == founders


def test_whole_lifecycle_of_an_admission(kiez: Kiez, tmp_path: Path) -> None:
    kiez("gov", "join-request", "--intro", "I repair radios", account=3)
    pending = kiez.json("gov", "join-requests")
    assert [r["applicant"] for r in pending] == [NEWCOMER]

    created = kiez("gov", "propose", "add-member", NEWCOMER, "-m", "she fixed my radio", account=0)
    assert "proposal 1 created: add-member" in created.output
    assert "kiez gov vote 1 for|against|abstain" in created.output

    voted = kiez("gov", "vote", "1", "for", "--reason", "welcome", account=0)
    assert "tally: 1 for, 0 against, 0 abstain of 3 eligible" in voted.output

    ballot = tmp_path / "ballot.json"
    kiez("gov", "vote", "1", "for", "--sign-only", str(ballot), account=1)
    relayed = kiez("gov", "vote", "--relay", str(ballot), account=7)  # a non-member pays the gas
    assert f"relayed {dev_account(1).address}'s vote (for)" in relayed.output

    shown = kiez("gov", "show", "1")
    assert "state: succeeded" in shown.output
    assert "why: she fixed my radio" in shown.output
    assert f"{dev_account(0).address} voted for — welcome" in shown.output

    executed = kiez("gov", "execute", "1", account=5)
    assert "proposal 1 executed: add-member" in executed.output
    assert NEWCOMER in [m["address"] for m in kiez.json("gov", "members")]
    assert kiez.json("gov", "join-requests") == []
    listed = kiez.json("gov", "proposals")
    assert [(p["number"], p["state"]) for p in listed] == [(1, "executed")]


def test_refusals_are_one_clear_line(kiez: Kiez, community: DevCommunity) -> None:
    kiez("gov", "propose", "hide-post", "0x" + "ab" * 32, "--reason", "spam", account=0)
    kiez("gov", "vote", "1", "against", account=0)
    again = kiez("gov", "vote", "1", "for", account=0, ok=False)
    assert again.output.strip() == (f"Error: you ({dev_account(0).address}) already voted on proposal 1")
    outsider = kiez("gov", "vote", "1", "for", account=6, ok=False)
    assert f"are not a member of community {community.address}" in outsider.output
    early = kiez("gov", "execute", "1", account=0, ok=False)
    assert "cannot be executed: voting is still open" in early.output
    missing = kiez("gov", "show", "9", ok=False)
    assert "has no proposal 9 (its proposals are numbered 1 to 1)" in missing.output
    bad_post = kiez("gov", "propose", "hide-post", "0x1234", "--reason", "x", account=0, ok=False)
    assert "post id must be 32 bytes" in bad_post.output
    no_account = kiez("gov", "vote", "1", "for", ok=False)
    assert "choose an account with --keystore" in no_account.output


def test_a_ballot_file_that_is_not_text_is_one_clear_line(kiez: Kiez, tmp_path: Path) -> None:
    ballot = tmp_path / "ballot.json"
    ballot.write_bytes(b'{"format": "\xff\xfe"}')  # invalid UTF-8: click's text mode raised before the parser
    refused = kiez("gov", "vote", "--relay", str(ballot), account=7, ok=False)
    assert refused.output.startswith("Error: not a ballot file: not valid JSON")
    assert "Traceback" not in refused.output


def test_voting_after_the_deadline_names_the_time(kiez: Kiez, anvil: Anvil) -> None:
    kiez("gov", "propose", "remove-member", dev_account(2).address, account=0)
    anvil.advance_time(61)
    late = kiez("gov", "vote", "1", "for", account=1, ok=False)
    assert "voting on proposal 1 closed at" in late.output
    assert "UTC (defeated)" in late.output


def test_moderation_keys_and_rules(kiez: Kiez, tmp_path: Path) -> None:
    bob = dev_account(1).address
    kiez("gov", "propose", "grant-moderator", bob, account=0)
    kiez("gov", "vote", "1", "for", account=0)
    kiez("gov", "vote", "1", "for", account=2)
    kiez("gov", "execute", "1", account=0)
    assert [m["moderator"] for m in kiez.json("gov", "members")] == [False, True, False]

    post = "0x" + "cd" * 32
    kiez("gov", "hide", post, "--reason", "spam", account=1)
    refused = kiez("gov", "hide", post, "--reason", "again", account=0, ok=False)
    assert "are not a moderator of community" in refused.output
    kiez("gov", "propose", "unhide-post", post, "--reason", "it was fine", account=2)

    key = "0x" + "11" * 32
    kiez("gov", "keys", "add", key, account=2)
    keys = kiez.json("gov", "keys", "list", account=2)
    assert [(k["key"], k["active"]) for k in keys] == [(key, True)]
    kiez("gov", "keys", "revoke", key, account=2)
    assert kiez.json("gov", "keys", "list", dev_account(2).address)[0]["active"] is False

    same = kiez("gov", "propose", "change-rules", "--quorum", "50", account=0, ok=False)
    assert "these are the current rules already" in same.output
    changed = kiez("gov", "propose", "change-rules", "--threshold", "66", "--voting-period", "1d", account=0)
    assert "quorum 50 %, threshold 66 %, voting period 1d" in changed.output
    charter = tmp_path / "charter.md"
    charter.write_text("Meet on Sundays.")
    kiez("gov", "propose", "set-charter", "--file", str(charter), account=0)
    states = [(p["kind"], p["state"]) for p in kiez.json("gov", "proposals", "--state", "active")]
    assert states == [("set-charter", "active"), ("change-rules", "active"), ("unhide-post", "active")]


def test_guest_policy(kiez: Kiez) -> None:
    assert "guests:    guests invited by any member, passes of ≤ 7d" in kiez("gov", "info").output
    assert kiez.json("gov", "info")["guest_policy"] == {"inviters": 0, "max_pass_seconds": 7 * 86400}
    made = kiez("gov", "propose", "set-guest-policy", "--inviters", "moderators", "--max-pass", "3d", account=0)
    assert "proposal" in made.output
    (shown,) = [p for p in kiez.json("gov", "proposals") if p["kind"] == "set-guest-policy"]
    assert shown["state"] == "active"
    too_long = kiez("gov", "propose", "set-guest-policy", "--max-pass", "91d", account=0, ok=False)
    assert "90 days" in too_long.output


def test_media_policy(kiez: Kiez) -> None:
    shown = kiez("gov", "info")
    assert "media:     ≤ 4 attachments of ≤ 2048 KiB per post" in shown.output
    assert kiez.json("gov", "info")["media_policy"] == {"max_attachments": 4, "max_attachment_kib": 2048}

    same = kiez("gov", "propose", "set-media-policy", "--max-attachments", "4", account=0, ok=False)
    assert "this is the current media policy already (≤ 4 attachments of ≤ 2048 KiB)" in same.output
    too_big = kiez("gov", "propose", "set-media-policy", "--max-attachment-kib", "4096", account=0, ok=False)
    assert too_big.output.strip() == "Error: size of one attachment must be 1..2048 KiB, not 4096 KiB"

    created = kiez(
        "gov",
        "propose",
        "set-media-policy",
        "--max-attachments",
        "2",
        "--max-attachment-kib",
        "512",
        "-m",
        "phones on slow links",
        account=0,
    )
    assert "proposal 1 created: set-media-policy ≤ 2 attachments of ≤ 512 KiB" in created.output
    listed = kiez("gov", "proposals")
    assert "set-media-policy  ≤ 2 attachments of ≤ 512 KiB" in listed.output
    kiez("gov", "vote", "1", "for", account=0)
    kiez("gov", "vote", "1", "for", account=1)
    executed = kiez("gov", "execute", "1", account=2)
    assert "proposal 1 executed: set-media-policy ≤ 2 attachments of ≤ 512 KiB" in executed.output
    assert "media:     ≤ 2 attachments of ≤ 512 KiB per post" in kiez("gov", "info").output

    # `media-policy` is accepted as a name too; an option left out keeps its current value.
    kiez("gov", "propose", "media-policy", "--max-attachments", "0", account=1)
    assert kiez("gov", "show", "2").output.startswith("proposal 2: set-media-policy no attachments")
    newest = kiez.json("gov", "proposals")[0]
    assert newest["subject"] == "0x" + MediaPolicy(0, 512).pack().hex()


def test_dead_endpoint_is_named(community: DevCommunity) -> None:
    result = CliRunner().invoke(main, ["gov", "info", "--rpc", "http://127.0.0.1:9", "--community", community.address])
    assert result.exit_code == 1
    assert "cannot reach the chain at http://127.0.0.1:9" in result.output


def test_leaving_takes_effect_at_once(kiez: Kiez) -> None:
    result = kiez("gov", "leave", "--yes", account=0)
    assert "you left" in result.output
    gone = kiez("gov", "leave", "--yes", account=0, ok=False)
    assert "are not a member" in gone.output


def test_dev_accounts_are_refused_on_other_chains() -> None:
    from governance.anvil import start_anvil

    with start_anvil(extra_args=("--chain-id", "10")) as other:
        founder = dev_account(0).address
        args = ["gov", "deploy", "--name", "x", "--founder", founder, "--dev-account", "0", "--rpc", other.rpc_url]
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "only usable on a local devnet" in result.output
    assert "this chain has id 10" in result.output


def test_keystore_account(kiez: Kiez, tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    kiez.env["ALICE_KEY"] = dev_account(0).key.hex()
    kiez.env["KIEZ_PASSWORD"] = "s3cret"
    created = kiez("gov", "account", "new", str(path), "--import-key-env", "ALICE_KEY")
    assert dev_account(0).address in created.output
    voted = kiez("gov", "propose", "hide-post", "0x" + "ef" * 32, "--reason", "spam", "--keystore", str(path))
    assert "proposal 1 created" in voted.output
    kiez.env["KIEZ_PASSWORD"] = "wrong"
    refused = kiez("gov", "vote", "1", "for", "--keystore", str(path), ok=False)
    assert "wrong password" in refused.output
