"""A local Anvil chain for the devnet and the tests, started from the npm package's binary.

Anvil listens on a port it picks itself (``--port 0``), so several chains can run side by side
(parallel tests, a devnet beside a test run); we read the port from its log rather than guess a
free one, which would race. Its output goes to a log file, not a pipe, so a chatty chain can never
block on a full pipe buffer, and the log is there to read when something fails.
"""

from __future__ import annotations

import os
import platform
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from web3 import Web3

from governance.errors import ChainUnavailable

_LISTENING = re.compile(r"Listening on ([0-9.]+):(\d+)")
_PLATFORMS = {
    ("Linux", "x86_64"): "linux-amd64",
    ("Linux", "aarch64"): "linux-arm64",
    ("Darwin", "x86_64"): "darwin-amd64",
    ("Darwin", "arm64"): "darwin-arm64",
}


def project_root() -> Path:
    """The repository root (where package.json and node_modules live)."""
    return Path(__file__).resolve().parent.parent


def npm_platform() -> str | None:
    """This machine's suffix of Foundry's npm binary packages (anvil-linux-amd64, forge-...);
    None where Foundry publishes none."""
    return _PLATFORMS.get((platform.system(), platform.machine()))


def find_anvil() -> Path:
    """The Anvil binary: $KIEZ_ANVIL, else node_modules (installed by scripts/bootstrap.sh)."""
    override = os.environ.get("KIEZ_ANVIL")
    if override:
        return Path(override)
    suffix = npm_platform()
    candidates = []
    for base in (project_root(), Path.cwd()):
        if suffix:
            candidates.append(base / "node_modules" / "@foundry-rs" / f"anvil-{suffix}" / "bin" / "anvil")
    for path in candidates:
        if path.is_file():
            return path
    raise ChainUnavailable(
        "Anvil is not installed: run scripts/bootstrap.sh (it installs @foundry-rs/anvil from npm), "
        "or set KIEZ_ANVIL to an anvil binary"
    )


@dataclass
class Anvil:
    """A running Anvil process. Use as a context manager, or call ``stop()``."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    _owns_log: bool = field(default=True, repr=False)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def web3(self, timeout: float = 30.0) -> Web3:
        return Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": timeout}))

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stops the chain (SIGTERM, then SIGKILL after 5 s) and removes its log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._owns_log:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> Anvil:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- devnet helpers: Anvil's own RPC methods ---------------------------------------------
    def rpc(self, method: str, params: list[Any]) -> Any:
        response = self.web3().provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise ChainUnavailable(f"{method} failed: {response['error']}")
        return response.get("result")

    def advance_time(self, seconds: int) -> None:
        """Moves the chain's clock forward and mines a block, so the new time is visible."""
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine", [])

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> None:
        self.rpc("evm_revert", [snapshot_id])


def start_anvil(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    block_time: float | None = None,
    log_path: Path | None = None,
    timeout: float = 20.0,
    extra_args: tuple[str, ...] = (),
) -> Anvil:
    """Starts Anvil on ``host:port`` (0: any free port) and returns once it answers JSON-RPC."""
    binary = find_anvil()
    owns_log = log_path is None
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="kiez-anvil-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    args = [str(binary), "--host", host, "--port", str(port)]
    if block_time is not None:
        args += ["--block-time", str(block_time)]
    args += list(extra_args)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    anvil = Anvil(process, host, port, log_path, owns_log)
    deadline = time.monotonic() + timeout
    try:
        while anvil.port == 0 or not _answers(anvil):
            if process.poll() is not None:
                raise ChainUnavailable(f"anvil exited with code {process.returncode}:\n{anvil.log_tail()}")
            if time.monotonic() > deadline:
                raise ChainUnavailable(f"anvil did not answer within {timeout:.0f} s:\n{anvil.log_tail()}")
            if anvil.port == 0:
                match = _LISTENING.search(log_path.read_text("utf-8", "replace"))
                if match:
                    anvil.port = int(match.group(2))
            time.sleep(0.02)
    except BaseException:
        anvil.stop()
        raise
    return anvil


def _answers(anvil: Anvil) -> bool:
    try:
        return anvil.web3(timeout=1.0).eth.chain_id > 0
    except Exception:
        return False
