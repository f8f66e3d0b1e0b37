"""Linux network namespaces for the harness's labs (root only): the commands, a thread that lives
in a namespace, and the NFQUEUE delayer that stands in for ``tc netem`` where the kernel lacks it.

A lab reaches into its namespaces only through threads that joined one (``NamespaceThread``):
setns(2) moves the calling *thread*, so the sockets it opens and the processes it starts live in
that namespace while the rest of the process stays where it was. Nothing here adds an address to
the machine's own namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from node.errors import NodeError

CLONE_NEWNET = 0x40000000
#: The delayer script, in the source tree's scripts/ (the lab is a tool of a checkout, not of the product).
NFQ_DELAY = Path(__file__).resolve().parents[2] / "scripts" / "nfq_delay.py"

T = TypeVar("T")


class LabError(NodeError):
    """A lab cannot be built or used here; the message says why (and what to install or fix)."""


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs a command of the lab's (ip, iptables, sysctl); a failure is a ``LabError`` naming it."""
    result = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise LabError(f"`{' '.join(args)}` failed: {(result.stderr or result.stdout).strip()}")
    return result


def in_ns(ns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs a command inside namespace ``ns``."""
    return run("ip", "netns", "exec", ns, *args, check=check)


def exec_prefix(ns: str) -> tuple[str, ...]:
    """The prefix that starts a command inside ``ns`` (``ip netns exec`` execs it, so signals sent
    to the child reach the command itself)."""
    return (shutil.which("ip") or "ip", "netns", "exec", ns)


def _setns(fd: int, what: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns into {what}: {os.strerror(errno)}")


def enter_namespace(ns: str) -> None:
    """Moves the *calling thread* into network namespace ``ns`` for good."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        _setns(fd, ns)
    finally:
        os.close(fd)


@contextlib.contextmanager
def inside(ns: str) -> Iterator[None]:
    """Within, the calling thread lives in ``ns`` (its new sockets and children are there); it
    returns to the namespace it came from afterwards, also on errors."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        enter_namespace(ns)
        try:
            yield
        finally:
            _setns(home, "the thread's own namespace")
    finally:
        os.close(home)


class NamespaceThread:
    """One worker thread that lives in a network namespace: what it runs opens its sockets there
    (and processes it starts are born there). Calls run one at a time, in submission order."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=ns, initializer=enter_namespace, initargs=(ns,)
        )

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.submit(fn, *args)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def netns_unavailable() -> str | None:
    """Why namespace labs cannot run here (one sentence), or None where they can."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [tool for tool in ("ip", "iptables") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (scripts/bootstrap.sh installs iproute2 and iptables as root)"
    probe = f"kiez-probe-{os.getpid()}"
    made = run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` does not work here ({made.stderr.strip()})"
    run("ip", "netns", "del", probe, check=False)
    return None


def pids_in(ns: str) -> list[int]:
    return [int(p) for p in run("ip", "netns", "pids", ns, check=False).stdout.split()]


def delete_namespace(ns: str) -> None:
    """Kills whatever still runs in ``ns`` (leftovers of a failed run) and deletes it; its links,
    addresses and iptables rules go with it."""
    for pid in pids_in(ns):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    run("ip", "netns", "del", ns, check=False)


def list_namespaces() -> list[str]:
    return [line.split()[0] for line in run("ip", "netns", "list", check=False).stdout.splitlines() if line.strip()]


@dataclass(frozen=True)
class Shaping:
    """netem's ``delay D J loss L``: every packet through the shaped path is held ``delay_ms`` ±
    ``jitter_ms`` (uniform) and a fraction ``loss`` of them is dropped."""

    delay_ms: float = 25.0
    jitter_ms: float = 2.5
    loss: float = 0.01

    def args(self) -> list[str]:
        return ["--delay-ms", str(self.delay_ms), "--jitter-ms", str(self.jitter_ms), "--loss", str(self.loss)]

    def describe(self) -> str:
        return f"{self.delay_ms:g} ms ± {self.jitter_ms:g} ms delay and {100 * self.loss:g} % loss"


@dataclass
class Delayer:
    """``scripts/nfq_delay.py`` running in namespace ``ns`` on NFQUEUE ``queue``: packets an iptables
    rule there queues are delayed and dropped per ``shaping``. ``stop`` returns its statistics."""

    ns: str
    shaping: Shaping
    queue: int = 0
    process: subprocess.Popen[str] | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def start(self) -> Delayer:
        if not NFQ_DELAY.exists():
            raise LabError(f"the NFQUEUE delayer {NFQ_DELAY.name} is not in scripts/: run from a kiez checkout")
        command = [*exec_prefix(self.ns), sys.executable, str(NFQ_DELAY), "--queue", str(self.queue)]
        self.process = subprocess.Popen(
            [*command, *self.shaping.args()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith('{"ready"'):
            err = self.process.stderr.read() if self.process.stderr else ""
            self.process.kill()
            self.process.wait()
            raise LabError(f"the NFQUEUE delayer did not start: {line}{err}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> dict[str, Any]:
        """SIGTERM (it releases what it holds and prints its statistics); SIGKILL after 10 s."""
        if self.process is None:
            return self.stats
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                out, _ = self.process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                out, _ = self.process.communicate()
            for line in out.splitlines():
                if line.startswith('{"stats"'):
                    self.stats.update(json.loads(line)["stats"])
        self.process = None
        return self.stats
