"""How the contract tests run forge: the binary npm installed (scripts/bootstrap.sh), from the
repository root, offline, with the pinned solc-js behind scripts/solc (foundry.toml).

Both the invariant tests and Slither (which builds through forge) need it; the binary is looked
up in node_modules as governance.anvil looks up Anvil, so nothing depends on npx or on PATH.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from governance.anvil import npm_platform

ROOT = Path(__file__).resolve().parents[2]


def find_forge() -> Path:
    """The forge binary of node_modules; AssertionError (a test failure) with the fix if absent."""
    suffix = npm_platform()
    assert suffix is not None, f"no forge package for {platform.system()} {platform.machine()}"
    path = ROOT / "node_modules" / "@foundry-rs" / f"forge-{suffix}" / "bin" / "forge"
    assert path.is_file(), f"{path} is missing: run scripts/bootstrap.sh (it installs @foundry-rs/forge)"
    return path


def forge_env() -> dict[str, str]:
    """The environment for forge and for tools that call `forge`: its directory first on PATH,
    and no colours, so that its output reads plainly in a failure message."""
    env = dict(os.environ)
    env["PATH"] = f"{find_forge().parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    return env
