"""A node's home directory and its one frozen configuration.

``$KIEZ_HOME`` (default ``~/.kiez``) holds, each file created with mode 0600 inside a 0700
directory:

    config.toml      what the node connects to and listens on (human-editable)
    app_key          32-byte ed25519 seed: signs this member's posts (authorised on-chain)
    x25519_key       32-byte X25519 key: opens the keys of the private rooms this member is in
    p2p_key          32-byte ed25519 seed: the node's libp2p identity (separate from the app key)
    api_token        bearer token of the local HTTP API
    keystore.json    the member's Ethereum account, encrypted (for `kiez keys register`, votes)
    node.db          the SQLite store, with its attachments (and SQLite's node.db-wal, -shm)
    node.log         the log, where the harness (`kiez devnet`, the tests) runs the node

``write_private`` writes the files here, ``node.store.db`` the database and the harness the log,
each with that mode from the moment it exists, whatever the umask.

``NodeConfig.load`` validates everything before a node starts and says exactly what is wrong.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from node.errors import ConfigError

CONFIG_FILE = "config.toml"
DEFAULT_P2P_PORT = 4101
DEFAULT_API_PORT = 8601


def default_home() -> Path:
    return Path(os.environ.get("KIEZ_HOME") or Path.home() / ".kiez")


@dataclass(frozen=True)
class NodeConfig:
    home: Path
    rpc_url: str
    community: str
    chain_id: int
    p2p_host: str = "127.0.0.1"
    p2p_port: int = DEFAULT_P2P_PORT
    api_port: int = DEFAULT_API_PORT
    bootstrap: tuple[str, ...] = field(default_factory=tuple)
    confirmations: int = 0
    poll_interval: float = 1.0
    sync_interval: float = 30.0
    name: str = ""
    # -- connectivity: discovery, relaying and hole punching (node/p2p) ------------------------
    announce: tuple[str, ...] = field(default_factory=tuple)  # extra addresses to advertise
    mdns: bool = True  # find nodes of this community on the same LAN
    target_peers: int = 8  # connections the address book keeps, members' nodes first
    relay_hop: str = "auto"  # relay for members: "auto" (when publicly reachable), "on", "off"
    relay_max_reservations: int = 16
    relay_max_circuits: int = 32
    relay_circuit_bytes: int = 16 * 1024 * 1024  # per circuit, both directions
    relay_circuit_seconds: int = 600  # per circuit
    # -- sponsoring newcomers' transactions (node/sponsor) -------------------------------------
    sponsor: bool = False  # pay for invited newcomers' join requests and key authorisations
    sponsor_tx_per_day: int = 20
    sponsor_max_gas_gwei: float = 50.0

    # -- files in the home -------------------------------------------------------------------
    @property
    def app_key_path(self) -> Path:
        return self.home / "app_key"

    @property
    def p2p_key_path(self) -> Path:
        return self.home / "p2p_key"

    @property
    def x25519_key_path(self) -> Path:
        return self.home / "x25519_key"

    @property
    def token_path(self) -> Path:
        return self.home / "api_token"

    @property
    def keystore_path(self) -> Path:
        return self.home / "keystore.json"

    @property
    def db_path(self) -> Path:
        return self.home / "node.db"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def topic(self) -> str:
        """The gossip topic of this community (node/spec/wire-format.md, section 7)."""
        return f"kiez/1/{self.chain_id}/{self.community.lower()}"

    # -- validation and persistence ----------------------------------------------------------
    def problems(self) -> list[str]:
        out = []
        if not self.rpc_url.startswith(("http://", "https://")):
            out.append(f"rpc_url must be an http(s) URL, not {self.rpc_url!r}")
        if not (self.community.startswith("0x") and len(self.community) == 42):
            out.append(f"community must be a contract address (0x and 40 hex digits), not {self.community!r}")
        if self.chain_id <= 0:
            out.append("chain_id must be positive")
        for name in ("p2p_port", "api_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                out.append(f"{name} must be 0..65535, not {port}")
        try:
            ipaddress.ip_address(self.p2p_host)
        except ValueError:
            out.append(f"p2p_host must be an IP address, not {self.p2p_host!r}")
        if self.confirmations < 0:
            out.append("confirmations must not be negative")
        if self.poll_interval <= 0:
            out.append("poll_interval must be positive")
        if self.sync_interval <= 0:
            out.append("sync_interval must be positive")
        for peer in self.bootstrap:
            if not peer.startswith("/") or "/p2p/" not in peer:
                out.append(f"bootstrap peer {peer!r} must be a multiaddr ending in /p2p/<peer id>")
        return out + self._connectivity_problems()

    def _connectivity_problems(self) -> list[str]:
        out = []
        for addr in self.announce:
            if not addr.startswith("/"):
                out.append(f"announce address {addr!r} must be a multiaddr such as /ip4/203.0.113.7/tcp/4101")
        if self.relay_hop not in ("auto", "on", "off"):
            out.append(f'relay_hop must be "auto", "on" or "off", not {self.relay_hop!r}')
        for name in (
            "target_peers",
            "relay_max_reservations",
            "relay_max_circuits",
            "relay_circuit_bytes",
            "relay_circuit_seconds",
            "sponsor_tx_per_day",
        ):
            if getattr(self, name) < 0:
                out.append(f"{name} must not be negative")
        if self.sponsor_max_gas_gwei <= 0:
            out.append("sponsor_max_gas_gwei must be positive")
        return out

    @classmethod
    def load(cls, home: Path) -> NodeConfig:
        path = home / CONFIG_FILE
        try:
            raw = tomllib.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no node configured at {home}: run `kiez init` first (or set KIEZ_HOME)") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None
        known = {f.name for f in fields(cls)} - {"home"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        try:
            config = cls(home=home, **values)
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        problems = config.problems()
        if problems:
            raise ConfigError(f"{path}: " + "; ".join(problems))
        return config

    def save(self) -> None:
        lines = ["# kiez node configuration; see `kiez init --help`"]
        for f in fields(self):
            if f.name == "home":
                continue
            lines.append(f"{f.name} = {_toml(getattr(self, f.name))}")
        write_private(self.home / CONFIG_FILE, ("\n".join(lines) + "\n").encode(), overwrite=True)

    def with_changes(self, **changes: Any) -> NodeConfig:
        return replace(self, **changes)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def write_private(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Writes a file only its owner can read (mode 0600 from the moment it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; kiez never overwrites a key") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def read_secret(path: Path, size: int | None = None) -> bytes:
    """Reads a key or token file, refusing one that others can read."""
    try:
        mode = path.stat().st_mode & 0o777
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing: run `kiez init`") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    if size is not None and len(data) != size:
        raise ConfigError(f"{path} must hold {size} bytes, not {len(data)}")
    return data


def create_secrets(config: NodeConfig) -> None:
    """Creates the app key, the p2p key and the API token (never overwriting existing ones)."""
    for path in (config.app_key_path, config.p2p_key_path, config.x25519_key_path):
        if not path.exists():
            write_private(path, secrets.token_bytes(32))
    if not config.token_path.exists():
        write_private(config.token_path, secrets.token_urlsafe(32).encode())
