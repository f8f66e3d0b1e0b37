"""Running ``kiez`` in-process as a member types it, and a node home made by ``kiez init``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from governance.devchain import DevCommunity
from node.cli import main
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
