"""What a peer record advertises: binary multiaddrs, never a wildcard, never our own /p2p/ part."""

from __future__ import annotations

import multiaddr

from node.p2p.addresses import dialable, expand_wildcards, interface_ips, record_addrs

ME = "12D3KooWGSrXQQXYp31AUbZ64eJMb3hGywN4dmzpaZW3rWW22EfF"


def _text(addrs: tuple[bytes, ...]) -> list[str]:
    return [str(multiaddr.Multiaddr(a)) for a in addrs]


def test_a_wildcard_becomes_the_interfaces_addresses() -> None:
    expanded = expand_wildcards("/ip4/0.0.0.0/tcp/4101")
    assert expanded == [f"/ip4/{ip}/tcp/4101" for ip in interface_ips("ip4")]
    assert expanded
    assert all("0.0.0.0" not in a for a in expanded)
    assert expand_wildcards("/ip4/192.0.2.7/tcp/4101") == ["/ip4/192.0.2.7/tcp/4101"]


def test_record_addresses_cut_our_id_drop_duplicates_and_garbage_and_keep_relays() -> None:
    relay = f"/ip4/192.0.2.9/tcp/4001/p2p/{ME.replace('G', 'H')}/p2p-circuit"
    addrs = record_addrs(
        [f"/ip4/0.0.0.0/tcp/4101/p2p/{ME}", "/ip4/192.0.2.7/tcp/4101", "/ip4/192.0.2.7/tcp/4101", "nonsense", relay],
        ME,
    )
    texts = _text(addrs)
    assert texts == [*expand_wildcards("/ip4/0.0.0.0/tcp/4101"), "/ip4/192.0.2.7/tcp/4101", relay]
    assert "0.0.0.0" not in " ".join(texts)
    assert dialable(addrs[-1], ME) == f"{relay}/p2p/{ME}"


def test_at_most_eight_addresses() -> None:
    assert len(record_addrs([f"/ip4/192.0.2.{i}/tcp/1" for i in range(20)], ME)) == 8
