"""NAT traversal: one public node and three homes behind MASQUERADE, home 2's a hard NAT.

- a member's node dials every node back: the public one is public and serves the relay hop, the
  homes are private and saw their router's address;
- each home reserves a slot on the public node and its peer record lists the circuit address;
- two homes connect through the relay (nobody can dial into a home directly), and gossip and
  sync run over that relayed connection; an attachment posted at one home reaches the others;
- the two homes behind easy NATs punch a hole (DCUtR) and end up connected directly, and stay so
  once the relayed connection it replaced has closed; the home behind the hard NAT stays
  relayed, having tried;
- a stranger's node (a libp2p host with no member behind it) is refused a reservation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from node.errors import ApiError
from node.harness.cluster import Network
from node.harness.natlab import NatLab
from node.harness.natnet import NODE_P2P_PORT
from node.harness.netns import exec_prefix
from node.harness.process import wait_until
from node.p2p.libp2p_compat.dcutr import RELAY_CLOSE_S

LAB_PUBLICS = 1
HOMES = range(3)
LAB_HARD_NAT = (2,)
WAIT_S = 120.0
ROOT = Path(__file__).resolve().parents[3]


def _home_node(k: int) -> int:
    return LAB_PUBLICS + k


def _connectivity(net: Network, index: int) -> dict[str, Any]:
    found: dict[str, Any] = net.nodes[index].api.get("/v1/status")["connectivity"]
    return found


def _peer_id(net: Network, index: int) -> str:
    return str(net.nodes[index].ready["peer_id"])


def test_the_public_node_is_public_and_relays_the_homes_are_private(nat_lab: NatLab, nat_net: Network) -> None:
    wait_until(lambda: _connectivity(nat_net, 0)["reachability"] == "public", WAIT_S, "the public node's verdict")
    assert _connectivity(nat_net, 0)["relay_hop"]["serving"] is True
    for k in HOMES:
        home = _home_node(k)
        wait_until(lambda h=home: _connectivity(nat_net, h)["reachability"] == "private", WAIT_S, f"home {k}")
        seen = _connectivity(nat_net, home)
        assert seen["observed"] == [nat_lab.home_wan_address(k)]  # where the internet sees it
        assert seen["relay_hop"]["serving"] is False


def test_every_home_reserves_on_the_relay_and_advertises_the_circuit(nat_lab: NatLab, nat_net: Network) -> None:
    relay = _peer_id(nat_net, 0)
    for k in HOMES:
        home = _home_node(k)
        wait_until(lambda h=home: relay in _connectivity(nat_net, h)["relay_client"]["relays"], WAIT_S, "a slot")
        circuit = _connectivity(nat_net, home)["relay_client"]["circuit_addrs"]
        assert circuit == [f"/ip4/{nat_lab.public_address(0)}/tcp/{NODE_P2P_PORT}/p2p/{relay}/p2p-circuit"]

        def advertised(h: int = home) -> bool:
            records = nat_net.nodes[0].api.get("/v1/peers/known")["records"]
            mine = next((r for r in records if r["peer_id"] == _peer_id(nat_net, h)), None)
            return mine is not None and any("/p2p-circuit" in a for a in mine["addrs"])

        wait_until(advertised, WAIT_S, f"home {k}'s circuit address in the relay's address book")
    assert _connectivity(nat_net, 0)["relay_hop"]["reservations"] == len(HOMES)


def test_two_homes_connect_through_the_relay_and_gossip_and_sync_over_it(nat_net: Network) -> None:
    a, b = _home_node(2), _home_node(0)  # behind the hard NAT, a hole punch cannot replace the relay
    wait_until(
        lambda: (
            _peer_id(nat_net, b) in _connectivity(nat_net, a)["relayed_peers"]
            or _peer_id(nat_net, a) in _connectivity(nat_net, b)["relayed_peers"]
        ),
        WAIT_S,
        "a relayed connection",
    )
    assert _connectivity(nat_net, 0)["relay_hop"]["circuits_opened"] >= 1
    relayed_before = _connectivity(nat_net, 0)["relay_hop"]["bytes_relayed"]
    post = nat_net.post(a, "from home 0, through the relay too")
    nat_net.wait_post(post)

    def synced_with(me: int, other: int) -> bool:
        last = nat_net.nodes[me].api.get("/v1/status")["sync"]["last"]
        return _peer_id(nat_net, other) in last

    wait_until(lambda: synced_with(a, b) or synced_with(b, a), WAIT_S, "a sync session between the two homes")
    assert _connectivity(nat_net, 0)["relay_hop"]["bytes_relayed"] > relayed_before


def _direct(net: Network, me: int, other: int) -> bool:
    seen = _connectivity(net, me)
    return (
        _peer_id(net, other) in seen["hole_punching"]["direct_peers"]
        and _peer_id(net, other) not in seen["relayed_peers"]
    )


def test_the_easy_homes_punch_a_hole_and_the_hard_one_stays_relayed(nat_net: Network) -> None:
    a, b, hard = _home_node(0), _home_node(1), _home_node(2)

    def punched() -> bool:  # a punch's peer turns direct a moment before the punch is counted
        won = sum(_connectivity(nat_net, h)["hole_punching"]["punched"] for h in (a, b))
        return won >= 1 and (_direct(nat_net, a, b) or _direct(nat_net, b, a))

    wait_until(punched, WAIT_S, "a hole punched between the easy homes, and their connection direct")
    wait_until(lambda: _connectivity(nat_net, hard)["hole_punching"]["punches"] >= 1, WAIT_S, "a punch at the hard NAT")
    for easy in (a, b):
        assert not _direct(nat_net, hard, easy)
        assert not _direct(nat_net, easy, hard)
    assert _connectivity(nat_net, hard)["hole_punching"]["punched"] == 0

    def relay_leg_closed() -> bool:  # the relayed connection the punch replaced, RELAY_CLOSE_S later
        return all(_connectivity(nat_net, h)["hole_punching"]["relay_legs_open"] == [] for h in (a, b))

    wait_until(relay_leg_closed, RELAY_CLOSE_S + WAIT_S, "the replaced relayed connection to close")
    assert _direct(nat_net, a, b) or _direct(nat_net, b, a)  # still direct, with the relay gone
    post = nat_net.post(a, "from home 0, straight to home 1")
    nat_net.wait_post(post)


def test_an_attachment_from_one_home_reaches_the_others(nat_net: Network) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
    home = nat_net.nodes[_home_node(2)]
    sha = home.api.upload(picture, "image/png")["sha256"]
    post = home.api.post("/v1/posts", {"text": "the new bench", "attachments": [sha]})["id"]
    nat_net.wait_post(post)

    def held(index: int) -> bool:
        try:
            return nat_net.nodes[index].api.download(sha) == ("image/png", picture)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    for index in (_home_node(0), _home_node(1)):
        wait_until(lambda i=index: held(i), WAIT_S, f"the picture at node {index}")


def test_the_relay_refuses_a_strangers_reservation(nat_lab: NatLab, nat_net: Network) -> None:
    """A libp2p host that is no member's node, in home 0's namespace, asks the relay for a slot."""
    relay_addr = f"/ip4/{nat_lab.public_address(0)}/tcp/{NODE_P2P_PORT}/p2p/{_peer_id(nat_net, 0)}"
    before = _connectivity(nat_net, 0)["relay_hop"]["refused_not_member"]
    result = subprocess.run(
        [*exec_prefix(nat_lab.home(0)), sys.executable, "-m", "tests.integration.netns.stranger", relay_addr],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "refused: PERMISSION_DENIED"
    assert _connectivity(nat_net, 0)["relay_hop"]["refused_not_member"] > before
