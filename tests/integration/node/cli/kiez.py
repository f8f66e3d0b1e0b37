"""Running ``kiez`` in-process as a member types it, and a node home made by ``kiez init``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from governance.devchain import DevCommunity
from node.cli import main
from node.harness.cluster import Network
from node.harness.process import free_port


def kiez(*args: str, ok: bool = True, password: str = "pw") -> Result:
    result = CliRunner().invoke(main, list(args), env={"KIEZ_PASSWORD": password, "KIEZ_HOME": None})
    expected = 0 if ok else 1
    assert result.exit_code == expected, f"kiez {' '.join(args)} → {result.exit_code}:\n{result.output}"
    return result


def init(home: Path, community: DevCommunity, *extra: str) -> Result:
    return kiez(
        "init",
        "--home",
        str(home),
        "--community",
        community.address,
        "--rpc",
        community.rpc_url,
        "--p2p-port",
        str(free_port()),
        "--api-port",
        str(free_port()),
        *extra,
    )


def at_node(net: Network, index: int, *args: str, ok: bool = True) -> str:
    """Runs a member command against node ``index`` of a running network, as its member types it."""
    home = str(net.nodes[index].config.home)
    result = CliRunner().invoke(main, [*args, "--home", home], env={"KIEZ_HOME": None})
    assert result.exit_code == (0 if ok else 1), f"kiez {' '.join(args)} → {result.exit_code}:\n{result.output}"
    return result.output
