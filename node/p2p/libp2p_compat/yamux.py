"""Yamux receive credit returned once half the window is consumed, not after every read
(py-libp2p#1269).

py-libp2p 0.8.1 sends a WINDOW_UPDATE frame after *every* ``YamuxStream.read`` that consumed
anything (stream_muxer/yamux/yamux.py, ``_auto_tune_and_send_window_update``: its "partial
slack" branch fires whenever the window is below its target, which is after every read, whatever
``PY_YAMUX_RELEASE_ON_READ`` says; the hysteresis came with libp2p/py-libp2p#1269). Pubsub reads
each RPC as its varint length, byte by byte, then its body, so every gossiped message cost its
receiver about three frames back to the sender: built, Noise-encrypted and written by the
receiver, read, decrypted and parsed by the sender.

Here credit is withheld until the reader has consumed half the window (py's
``_grow_threshold``), and returned in one update, as go-yamux does (``sendWindowUpdate`` skips
deltas under half the maximum). An earlier version also returned it whenever the reader drained
the stream's buffer; below saturation every gossiped copy arrives alone and drains it, so that
was still one WINDOW_UPDATE frame per copy (4 % of node CPU in scripts/bench_gossip.py
``--profile`` at 20 posts/s, plus the sender's work to read it). Nothing stalls: a sender blocks
only with the whole window unacknowledged, and by then the reader has consumed at least half.
Flow control is unchanged: only what the application read is credited, so a peer that stops
reading still stops receiving once the window is spent (what tests/integration/node/test_attacks.py
checks); py's window auto-tuning (``_apply_autotune_epoch``) applies to each update as before.

The replacement is installed on the class (py-libp2p creates streams inside its muxer, with no
factory to pass), so it is process-wide: ``open_host`` installs it explicitly, and installing it
again is a no-op.
"""

from __future__ import annotations

from libp2p.stream_muxer.yamux.yamux import YamuxStream

from node.p2p.libp2p_compat import require_supported_libp2p


async def _batched_window_update(self: YamuxStream, *, bytes_read: int = 0) -> None:
    """Return the consumed receive credit once half the window is used."""
    async with self.window_lock:
        buffered = len(self.conn.stream_buffers.get(self.stream_id, b""))
        consumed = self.target_recv_window - (self.recv_window + buffered)
        if consumed <= 0 or consumed < self._grow_threshold():
            return
        self.recv_window += consumed
        increment = consumed + self._apply_autotune_epoch(buffered)
    # Outside the lock, as py-libp2p does: an inbound WINDOW_UPDATE handler needs window_lock.
    await self.send_window_update(increment, skip_lock=True)


def install_yamux_credit() -> None:
    """Replace ``YamuxStream._auto_tune_and_send_window_update`` with the batched credit, once per
    process (idempotent); ``UnsupportedLibp2p`` on another py-libp2p, whose yamux may differ."""
    if YamuxStream._auto_tune_and_send_window_update is _batched_window_update:
        return
    require_supported_libp2p()
    YamuxStream._auto_tune_and_send_window_update = _batched_window_update  # type: ignore[method-assign]


def yamux_credit_installed() -> bool:
    """Whether ``install_yamux_credit`` has run in this process."""
    return YamuxStream._auto_tune_and_send_window_update is _batched_window_update
