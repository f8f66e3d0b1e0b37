"""``kiez devnet``: a whole local community on one machine, with a scenario a newcomer can watch.

It starts a real Anvil chain, founds a community from Anvil's dev accounts, gives every founder
a node (its own process, on loopback), and plays the life of a community: everyone posts; the
members vote to hide a post and it leaves every feed; a newcomer asks to join, is voted in
(one vote by a relayed signed ballot), starts a node and posts; a private room is opened for the
organisers, which the newcomer's node relays but cannot read; an opinion poll is answered and
every node counts the same tally; members take sides on two proposals for the street and every
node ranks the same bridging feed, each post with why, beside an opinion map of the poll; a
member is removed, their next post is refused and the private room's key is rotated so they
cannot read what comes after. Every step is a real transaction or a real gossiped message, and
the summary at the end is read back from the nodes and the chain.

Each node's home (config, keys, database, log) is kept under ``.kiez-devnet/`` so a run can be
inspected and reproduced; ``--keep`` leaves everything running and shows how to use the CLI on it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType

import click

from governance.anvil import Anvil, start_anvil
from governance.errors import GovernanceError
from node.errors import NodeError
from node.harness.natlab import CHAIN_PORT, NatLab
from node.harness.netns import inside, netns_unavailable
from node.harness.onboarding import PASSWORD
from node.harness.scenario import Devnet


def _port_free(port: int) -> bool:
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def _signals(interrupt: bool) -> Iterator[None]:
    """Within, Ctrl-C and SIGTERM raise ``KeyboardInterrupt`` (``interrupt``) or are ignored.

    Python's handler for Ctrl-C is not a given: a shell starts a background job (``kiez devnet
    &``) with SIGINT ignored, and the devnet inherits that; SIGTERM's default ends the process at
    once, leaving the chain and the nodes running in sessions of their own. While the devnet
    stops them, neither signal may cut that short."""
    wanted = {
        signal.SIGINT: signal.default_int_handler if interrupt else signal.SIG_IGN,
        signal.SIGTERM: _interrupt if interrupt else signal.SIG_IGN,
    }
    previous = {signum: signal.signal(signum, handler) for signum, handler in wanted.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _wait_for_ctrl_c() -> None:
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass


def _keep_message(devnet: Devnet) -> str:
    lines = ["\nEverything keeps running. In another shell, for example:"]

    def kiez(name: str) -> str:
        """The CLI, run where ``name``'s node is (its API is on its namespace's loopback)."""
        return ".venv/bin/kiez" if devnet.lab is None else f"ip netns exec {devnet.spot(name)} .venv/bin/kiez"

    for name, node in devnet.nodes.items():
        lines.append(f"  {kiez(name)} feed --home {node.config.home}      # {name}'s node")
    first_name, first = next(iter(devnet.nodes.items()))
    lines += [
        f'  {kiez(first_name)} post "hello" --home {first.config.home}',
        f"  {kiez(first_name)} status --home {first.config.home}",
        f"  export KIEZ_RPC={devnet.anvil.rpc_url} KIEZ_COMMUNITY={devnet.client.address} KIEZ_DEV_ACCOUNT=0",
        f"  {kiez(first_name)} gov proposals      (dev account 0 is alice, 1 bob, …)",
    ]
    if devnet.lab is None:  # a namespace's loopback is not this desktop's browser's
        lines.append("Each member's web app (a one-time login link each):")
        lines += [f"  .venv/bin/kiez open --home {n.config.home}      # {name}" for name, n in devnet.nodes.items()]
        lines.append(f"  (to vote from a page, each member's keystore passphrase is {PASSWORD!r})")
    lines.append("Press Ctrl-C to stop everything.")
    return "\n".join(lines)


def _lab(stack: ExitStack, nodes: int) -> NatLab:
    """A NAT lab for ``kiez devnet --netns``: a public host for the first founder, a home behind a
    NAT for every other founder and the newcomer, and the chain in a namespace of its own. This
    thread moves into the chain's namespace (so the scenario's transactions reach Anvil there);
    the nodes' API calls go through threads in their namespaces."""
    lab = stack.enter_context(NatLab(homes=nodes))
    click.echo(
        f"   network namespaces {lab.inet[: -len('inet')]}*: the internet 198.18.0.0/15, a public host, the chain, "
        f"{nodes} homes behind NAT routers (iptables MASQUERADE)"
    )
    stack.enter_context(inside(lab.chain))
    return lab


def _run(port: int, nodes: int, keep: bool, root: Path, netns: bool) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, mode=0o700)  # the members' homes
    with ExitStack() as stack:
        lab = _lab(stack, nodes) if netns else None
        host = "127.0.0.1" if lab is None else lab.chain_address
        anvil = stack.enter_context(
            start_anvil(host=host, port=port if lab is None else CHAIN_PORT, log_path=root / "anvil.log")
        )
        _play(anvil, nodes, keep, root, lab)


def _play(anvil: Anvil, nodes: int, keep: bool, root: Path, lab: NatLab | None) -> None:
    """The scenario on a running chain; stops the nodes and the chain at its end, whatever happened."""
    click.echo(f"   local chain (Anvil) at {anvil.rpc_url}; node homes in {root}/")
    devnet = Devnet(anvil, nodes, root, lab=lab)
    try:
        devnet.run()
        devnet.summary()
        click.secho("\nThe scenario ran to the end.", fg="green", bold=True)
        if keep:
            click.echo(_keep_message(devnet))
            _wait_for_ctrl_c()
            click.echo("\nstopping the nodes and the chain")
    finally:
        with _signals(interrupt=False):
            devnet.stop()
            anvil.stop()


@click.command()
@click.option("--port", default=8545, show_default=True, help="Port of the local chain on 127.0.0.1 (0: any free).")
@click.option("--nodes", default=3, show_default=True, type=click.IntRange(3, 8), help="Founding members/nodes.")
@click.option("--keep", is_flag=True, help="Keep everything running afterwards and show how to use the CLI.")
@click.option(
    "--dir",
    "root",
    default=Path(".kiez-devnet"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the node homes go (emptied at start).",
)
@click.option(
    "--netns",
    is_flag=True,
    help="Run the nodes in network namespaces: the first on a public address, every other behind a NAT (needs root).",
)
def devnet(port: int, nodes: int, keep: bool, root: Path, netns: bool) -> None:
    """Run a local community: Anvil, the community contract, one node process per member, and a
    guided scenario (posts, a hidden post, a newcomer voted in, a member removed)."""
    if netns:
        reason = netns_unavailable()
        if reason is not None:
            raise click.ClickException(f"--netns cannot run here: {reason} (run as root, or leave --netns out)")
    elif not _port_free(port):
        raise click.ClickException(f"port {port} on 127.0.0.1 is in use (another devnet?): try --port 0")
    click.secho("kiez devnet", bold=True)
    try:
        with _signals(interrupt=True):
            _run(port, nodes, keep, root.resolve(), netns)
    except (GovernanceError, NodeError) as exc:
        raise click.ClickException(f"{exc}\n(node logs: {root}/<name>/node.log)") from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted; the nodes and the chain are stopped", err=True)
        sys.exit(130)
