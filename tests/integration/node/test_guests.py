"""Guest experts over real node processes: three members' nodes and one guest's node (no account,
no key on-chain). A member invites the guest's app key to one room; what the guest writes there
reaches every node labelled as a guest's; it is refused elsewhere, after its pass is ended (by the
inviter, or by a moderator) and after it runs out, always with the reason; the guest deletes its
own post; on-chain a guest's vote, direct or by signature, reverts like any non-member's; the rate
limit holds a guest back as it does a member, on its own node and on a member's; and a guest's
`kiez forget-me` erases all it wrote from every member's node."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from governance import errors
from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.types import Support
from node.config import NodeConfig, read_secret
from node.core import limits
from node.core.signing import Signer
from node.core.types import Kind, PostBody
from node.errors import ApiError
from node.harness.cluster import Network, start_network
from node.harness.process import NodeProcess, app_key_of, peer_addr, wait_until
from tests.integration.node.cli.kiez import at_node as kiez
from tests.integration.node.cli.kiez import init
from tests.integration.node.cli.kiez import kiez as typed
from tests.integration.node.network import raw_peer

WAIT_S = 60.0
DAY_MS = 86_400_000
GUEST_ACCOUNT = 8  # a funded dev account that is never a member: the guest's, for the chain tests


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    network = start_network(
        anvil, tmp_path_factory.mktemp("guests"), configure=lambda c: c.with_changes(sync_interval=2.0)
    )
    yield network
    network.stop()


@pytest.fixture(scope="module")
def guest(net: Network) -> NodeProcess:
    return net.start_guest("guest")


@pytest.fixture(scope="module")
def rooms(net: Network, guest: NodeProcess) -> dict[str, str]:
    """Three open rooms every node knows and follows: the guest's, another, and one for a short pass."""
    made = {}
    for name in ("soil", "chess", "brief"):
        made[name] = net.nodes[0].api.post("/v1/rooms", {"name": name})["id"]
    for node in [*net.nodes, guest]:
        wait_until(
            lambda n=node: {r["id"] for r in n.api.get("/v1/rooms")["rooms"]} >= set(made.values()), WAIT_S, "rooms"
        )
    for node in net.nodes[1:]:
        for room in made.values():
            node.api.post(f"/v1/rooms/{room}/join", {})
    return made


def key_of(guest: NodeProcess) -> str:
    return app_key_of(guest.config).hex()


def refusal(call: Any) -> str:
    with pytest.raises(ApiError) as caught:
        call()
    return str(caught.value)


def post(node: NodeProcess, text: str, room: str, parent: str | None = None) -> str:
    return str(node.api.post("/v1/posts", {"text": text, "room": room, "parent": parent})["id"])


def invite(node: NodeProcess, room: str, guest: NodeProcess, until_ms: int) -> str:
    return str(node.api.post("/v1/guests", {"room": room, "key": key_of(guest), "until": until_ms})["id"])


def wait_pass(nodes: list[NodeProcess], pass_id: str, ended: bool = False) -> None:
    def there(node: NodeProcess) -> bool:
        passes = node.api.get("/v1/guests?all=true")["passes"]
        return any(p["id"] == pass_id and (p["ended_ms"] is not None) == ended for p in passes)

    for node in nodes:
        wait_until(lambda n=node: there(n), WAIT_S, f"pass {pass_id[:12]} {'ended ' if ended else ''}on {node.name}")


def listed_guest(node: NodeProcess, guest: NodeProcess) -> bool:
    """Whether ``node``'s address book holds the guest node's record (so its keeper may dial it)."""
    records = node.api.get("/v1/peers/known")["records"]
    return any(r["member"] == f"guest:{key_of(guest)}" for r in records)


def guest_posts(node: NodeProcess, room: str, guest: NodeProcess) -> set[str]:
    """The ids of the guest's posts (not replies) that ``node`` shows in ``room``, every page."""
    found: set[str] = set()
    before = ""
    while True:
        page = node.api.get(f"/v1/feed?room={room}&limit=200" + (f"&before={before}" if before else ""))
        found |= {item["id"] for item in page["items"] if item["author"] == f"guest:{key_of(guest)}"}
        if page["next"] is None:
            return found
        before = page["next"]


def patiently(call: Callable[[], str], what: str) -> str:
    """``call()``'s answer, waiting out the rate limit if an earlier test used the bucket up."""
    result: list[str] = []

    def attempt() -> bool:
        try:
            result.append(call())
        except ApiError as exc:
            if "rate_limited" not in str(exc):
                raise
            return False
        return True

    wait_until(attempt, 30, what)
    return result[0]


def everywhere(net: Network, guest: NodeProcess) -> list[NodeProcess]:
    return [*net.nodes, guest]


def test_a_stranger_without_a_pass_is_refused(net: Network, guest: NodeProcess, rooms: dict[str, str]) -> None:
    said = refusal(lambda: post(guest, "hello from outside", rooms["soil"]))
    # its own node cannot tell a guest without a pass from a member whose key it has not seen yet
    assert "guest_pass_unknown" in said or "chain_view_behind" in said, said
    assert "kiez guest invite" in said, said


def test_the_guest_posts_replies_and_reacts_labelled_on_every_node(
    net: Network, guest: NodeProcess, rooms: dict[str, str]
) -> None:
    a = net.nodes[0]
    soil = rooms["soil"]
    # (its own node may not have seen the last block: then a policy allowing more may be on its way)
    assert "within 7 days" in refusal(lambda: invite(a, soil, guest, int(time.time() * 1000) + 8 * DAY_MS))
    assert "general room" in refusal(lambda: invite(a, "", guest, int(time.time() * 1000) + DAY_MS))
    shown = kiez(net, 0, "guest", "invite", "soil", key_of(guest), "--until", "3d", "--note", "soil scientist")
    assert "invited until" in shown
    pass_id = shown.rsplit("(pass ", 1)[1].split(")")[0]
    wait_pass(everywhere(net, guest), pass_id)
    # with a pass, the guest's node publishes its peer record, and the members' nodes list it
    for node in net.nodes:
        wait_until(lambda n=node: listed_guest(n, guest), WAIT_S, f"the guest's peer record on {node.name}")
    listed = kiez(net, 1, "guests")
    assert f"guest {key_of(guest)[:8]}…" in listed
    assert "soil scientist" in listed
    assert "in soil" in listed

    question = post(a, "Why does our compost smell of ammonia?", soil)
    own = post(guest, "Soil test results: the beds need lime", soil)
    wait_until(lambda: guest.has_post(question), WAIT_S, "the member's question on the guest's node")
    answer = post(guest, "Too much green: add straw", soil, parent=question)
    guest.api.post("/v1/reactions", {"target": question, "reaction": "👍", "room": soil})
    for node in net.nodes:
        for made in (own, answer):
            wait_until(lambda n=node, m=made: n.has_post(m), WAIT_S, f"the guest's post on {node.name}")
        item = node.api.get(f"/v1/posts/{own}")["post"]
        assert item["guest"] is True
        assert item["author"] == f"guest:{key_of(guest)}"
        assert item["author_name"].startswith(f"guest {key_of(guest)[:8]}…")
        assert "invited by" in item["author_name"]
        wait_until(
            lambda n=node: n.api.get(f"/v1/posts/{question}")["post"]["reactions"] == {"👍": 1},
            WAIT_S,
            f"the guest's reaction on {node.name}",
        )
        replies = node.api.get(f"/v1/posts/{question}")["replies"]
        assert [(r["id"], r["guest"]) for r in replies] == [(answer, True)]
    assert f"guest {key_of(guest)[:8]}…" in kiez(net, 2, "feed", "--room", "soil")

    # a guest deletes its own post, on every node
    guest.api.post("/v1/deletes", {"target": own, "room": soil})
    net.wait_post(own, present=False)


def test_the_guest_is_refused_in_another_room(net: Network, guest: NodeProcess, rooms: dict[str, str]) -> None:
    said = refusal(lambda: post(guest, "Chess, anyone?", rooms["chess"]))
    assert "guest_wrong_room" in said, said
    assert "guest_wrong_room" in refusal(lambda: post(guest, "Hello everyone", ""))
    # the members' nodes judge it the same when a peer sends it anyway (signed with the guest's key)
    signer = Signer(read_secret(guest.config.app_key_path, 32))
    sneaked = signer.envelope(net.community, Kind.POST, PostBody("Hello everyone"), int(time.time() * 1000))
    before = net.refused(1).get("guest_wrong_room", 0)
    with raw_peer(net, connect_to=1) as sender:
        sender.publish(sneaked)
        wait_until(lambda: net.refused(1).get("guest_wrong_room", 0) > before, WAIT_S, "node1 to refuse it")


def test_a_pass_ended_by_its_inviter_or_a_moderator_lets_nothing_more_in(
    net: Network, guest: NodeProcess, rooms: dict[str, str]
) -> None:
    a, b, c = net.nodes
    soil = rooms["soil"]
    first = next(p for p in a.api.get("/v1/guests")["passes"] if p["room"] == soil)["id"]
    assert "ended" in kiez(net, 0, "guest", "end", first[:10])
    wait_pass(everywhere(net, guest), first, ended=True)
    assert "guest_pass_ended" in refusal(lambda: post(guest, "one more thing", soil))

    # a new pass from another member; only its inviter or a moderator ends it
    second = invite(c, soil, guest, int(time.time() * 1000) + DAY_MS)
    wait_pass(everywhere(net, guest), second)
    back = post(guest, "Back with the lab report", soil)
    net.wait_post(back)
    said = refusal(lambda: b.api.post(f"/v1/guests/{second}/end", {}))
    assert "not_author" in said or "not the inviter" in said, said
    created, _ = net.client(0).propose_grant_moderator(net.dev.founders[1].address, "ends guest passes")
    net.client(0).cast_vote(created.proposal_id, Support.FOR)
    net.client(1).cast_vote(created.proposal_id, Support.FOR)
    net.wait_applied(net.client(0).execute(created).block_number)
    # moderation applies to guests as to members: the new moderator hides the guest's post
    net.wait_applied(net.client(1).moderator_hide(bytes.fromhex(back), "off topic").block_number)
    net.wait_post(back, present=False)
    b.api.post(f"/v1/guests/{second}/end", {})
    wait_pass(everywhere(net, guest), second, ended=True)
    assert "guest_pass_ended" in refusal(lambda: post(guest, "and another", soil))
    assert "was ended already" in refusal(lambda: a.api.post(f"/v1/guests/{second}/end", {}))
    assert kiez(net, 0, "guests").strip() == "no guests now"
    assert first[:12] in kiez(net, 0, "guests", "--all")


def test_a_pass_that_ran_out_lets_nothing_more_in(net: Network, guest: NodeProcess, rooms: dict[str, str]) -> None:
    brief = rooms["brief"]
    until = int(time.time() * 1000) + 8_000
    short = invite(net.nodes[0], brief, guest, until)
    wait_pass(everywhere(net, guest), short)
    quick = post(guest, "A quick note before I go", brief)
    net.wait_post(quick)
    wait_until(lambda: time.time() * 1000 > until + 1000, 15, "the pass to run out")
    said = refusal(lambda: post(guest, "Still here?", brief))
    assert "guest_pass_expired" in said, said
    # no pass of the guest's runs any more: its node leaves the members' address books
    for node in net.nodes:
        wait_until(lambda n=node: not listed_guest(n, guest), WAIT_S, f"the guest's record unused on {node.name}")


def test_bad_invites_and_ends_are_refused_with_their_reason(
    net: Network, guest: NodeProcess, rooms: dict[str, str]
) -> None:
    a = net.nodes[0]
    later = int(time.time() * 1000) + DAY_MS
    member_key = app_key_of(net.nodes[1].config).hex()
    refused = {
        "no room": lambda: a.api.post("/v1/guests", {"room": "ab" * 32, "key": key_of(guest), "until": later}),
        "a member's": lambda: a.api.post("/v1/guests", {"room": rooms["soil"], "key": member_key, "until": later}),
        "runs out in the future": lambda: invite(a, rooms["soil"], guest, later - 2 * DAY_MS),
        "pass id must be 64 hex digits": lambda: a.api.post("/v1/guests/zz/end", {}),
        "no guest pass": lambda: a.api.post(f"/v1/guests/{'ab' * 32}/end", {}),
    }
    for said, call in refused.items():
        assert said in refusal(call)
    assert "KEY is the guest's app key" in kiez(net, 0, "guest", "invite", "soil", "0x12", "--until", "3d", ok=False)
    assert "--until takes a span" in kiez(net, 0, "guest", "invite", "soil", key_of(guest), "--until", "soon", ok=False)
    assert "no guest pass on this node" in kiez(net, 0, "guest", "end", "ffff", ok=False)


def test_a_guest_never_votes_on_chain(net: Network) -> None:
    account = dev_account(GUEST_ACCOUNT)
    outsider = net.dev.client(account)
    created, _ = net.client(0).propose_hide_post(bytes(32), "a guest tries to vote")
    with pytest.raises(errors.NotAMember):
        outsider.cast_vote(created.proposal_id, Support.FOR)
    with pytest.raises(errors.NotAMember):
        net.client(2).relay_ballot(outsider.sign_ballot(created.proposal_id, Support.FOR))
    assert not net.client(0).has_voted(created.proposal_id, account.address)


def test_kiez_init_guest_makes_a_home_without_an_account(net: Network, tmp_path: Path) -> None:
    member = peer_addr(net.nodes[0].config)
    made = init(tmp_path / "expert", net.dev, "--guest", "--bootstrap", member).output
    assert "ask a member to invite it:  kiez guest invite ROOM " in made
    config = NodeConfig.load(tmp_path / "expert")
    assert app_key_of(config).hex() in made
    assert config.bootstrap == (member,)
    assert not config.keystore_path.exists()
    where = ("--home", str(tmp_path / "lost"), "--community", net.dev.address, "--rpc", net.dev.rpc_url)
    refused = typed("init", *where, "--guest", ok=False).output
    assert "needs --bootstrap" in refused


def test_a_guest_beyond_the_rate_limit_is_throttled_as_a_member_is(
    net: Network, guest: NodeProcess, rooms: dict[str, str]
) -> None:
    soil, author = rooms["soil"], f"guest:{key_of(guest)}"
    wait_pass(everywhere(net, guest), invite(net.nodes[0], soil, guest, int(time.time() * 1000) + DAY_MS))
    before = guest_posts(net.nodes[0], soil, guest)

    def attempt(n: int) -> tuple[str | None, str | None]:
        try:
            return post(guest, f"eager guest {n}", soil), None
        except ApiError as exc:
            return None, str(exc)

    # three bursts' worth from six threads at once, as test_attacks does with a member
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(attempt, range(limits.RATE_BURST * 3)))
    accepted = {made for made, _ in results if made is not None}
    refusals = [error for _, error in results if error is not None]
    assert len(refusals) >= 10, "the guest was never throttled"
    assert all("rate_limited" in r and "faster than the community's rate limit" in r for r in refusals)
    assert len(accepted) >= limits.RATE_BURST - 5
    assert guest.api.get("/v1/status")["messages"]["throttled"][author] >= len(refusals)
    # what was accepted reached every member's node, and nothing else did
    for node in net.nodes:
        wait_until(lambda n=node: guest_posts(n, soil, guest) == before | accepted, WAIT_S, f"the posts on {node.name}")
    # a member's node holds the guest's key to the same limit when a peer floods it with it
    signer = Signer(read_secret(guest.config.app_key_path, 32))
    now = int(time.time() * 1000)
    flood = [
        signer.envelope(net.community, Kind.POST, PostBody(f"guest flood {n}"), now, soil)
        for n in range(limits.RATE_BURST * 3)
    ]
    throttled = net.status(1)["messages"]["throttled"].get(author, 0)
    with raw_peer(net, connect_to=1, room=soil) as sender:
        sender.publish_many(flood)
        wait_until(
            lambda: net.status(1)["messages"]["throttled"].get(author, 0) > throttled, WAIT_S, "node1 to throttle it"
        )
        assert sender.peer_id in net.nodes[1].api.get("/v1/peers")["peers"]  # not blamed: still connected
    # once the bucket refills, the guest writes again
    net.wait_post(patiently(lambda: post(guest, "calm again", soil), "the guest's bucket to refill"))


def test_a_guests_forget_me_erases_what_it_wrote_from_every_members_node(
    net: Network, guest: NodeProcess, rooms: dict[str, str]
) -> None:
    soil, brief = rooms["soil"], rooms["brief"]
    question = post(net.nodes[0], "Is peat bad for the garden?", soil)
    wait_until(lambda: guest.has_post(question), WAIT_S, "the question on the guest's node")
    answer = patiently(lambda: post(guest, "Yes, it renews slowly: use leaf mould", soil, question), "the answer")
    react = {"target": question, "reaction": "🌱", "room": soil}
    patiently(lambda: str(guest.api.post("/v1/reactions", react)["id"]), "the reaction")
    for node in net.nodes:
        wait_until(
            lambda n=node: n.has_post(answer) and n.api.get(f"/v1/posts/{question}")["post"]["reactions"] == {"🌱": 1},
            WAIT_S,
            f"the answer and the reaction on {node.name}",
        )
        assert guest_posts(node, soil, guest)  # and the posts of the earlier tests
        assert guest_posts(node, brief, guest)
    shown = typed("forget-me", "--yes", "--home", str(guest.config.home)).output
    assert "every node purges what you wrote as a guest" in shown, shown
    for node in net.nodes:
        wait_until(
            lambda n=node: not (guest_posts(n, soil, guest) or guest_posts(n, brief, guest) or n.has_post(answer)),
            WAIT_S,
            f"the guest's writing gone from {node.name}",
        )
        thread = node.api.get(f"/v1/posts/{question}")
        assert thread["replies"] == []
        assert thread["post"]["reactions"] == {}
