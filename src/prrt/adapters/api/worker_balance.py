"""Keep-alive connections evened out between the worker processes of ``prrt serve --workers N``.

The worker processes share one listening socket, and the kernel hands each new
connection to whichever of them accepts first.  Clients that keep their connection
open (browsers, API clients, the load benchmark) then stay with that worker: measured
with 50 clients and two workers, the split was 34–44 connections on one worker and
6–16 on the other.  Each worker is one Python process (one core at most, under the
GIL), so the clients of the crowded worker waited two to seven times longer than the
others, and the tail latency of the whole service was that of the crowded worker.

Each worker therefore publishes how many client connections it served in the last
second on a small shared *board* (a memory-mapped file of one slot per worker:
process id, connections, time of publication).  A worker holding more than its share
(the total divided by the live workers, rounded up) by two or more answers its next
requests with ``Connection: close``: half its excess per publication, one connection per
:attr:`ConnectionBalancer.SHED_GAP_S` at most.  The client reconnects (a loopback handshake, well
under a millisecond) and the new connection goes to whichever worker accepts it; the
crowded worker sheds again while it is still above its share, so the split converges
to an even one within about a second.  Nothing is lost: a ``Connection: close``
response is complete, and the client's next request simply opens a new connection.

A single worker process (the default) has no board and never closes a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import mmap
import os
import struct
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: slots are claimed without the file lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["ConnectionBalancer", "create_board"]

#: One slot: process id, client connections in the last window, CLOCK_MONOTONIC time of
#: publication (the same clock for every process of the machine).
_SLOT = struct.Struct("<qid")


def create_board(folder: Path, workers: int) -> Path:
    """A new, empty board of ``workers`` slots in ``folder`` (the caller removes it)."""
    if workers < 2:
        raise ValueError(f"a board is for two or more workers, not {workers}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"workers-{os.getpid()}.board"
    path.write_bytes(bytes(_SLOT.size * workers))
    return path


class ConnectionBalancer:
    """This worker's slot on the board, its recent client connections and the shedding rule."""

    #: How often the worker publishes its count and reads the others'.
    PUBLISH_S = 0.05
    #: A connection counts while it sent a request within this window.
    ACTIVE_WINDOW_S = 1.0
    #: A worker whose slot is older than this is gone (or not started): it holds no share.
    LIVE_S = 1.0
    #: At most one connection closed per this interval (spreads the reconnections; the
    #: number to close is recomputed at every publication, so there is no overshoot).
    SHED_GAP_S = 0.005

    def __init__(self, board: Path, *, pid: int | None = None) -> None:
        """Claim a slot of ``board`` for this process (``pid``: another id, for tests)."""
        self.pid = os.getpid() if pid is None else pid
        self._fd = os.open(board, os.O_RDWR)
        size = os.fstat(self._fd).st_size
        if size == 0 or size % _SLOT.size:
            os.close(self._fd)
            raise ValueError(f"{board} is not a worker board ({size} bytes)")
        self._map = mmap.mmap(self._fd, size)
        self.slots = size // _SLOT.size
        self._slot = self._claim()
        self._seen: dict[tuple[str, int], float] = {}
        self._to_shed = 0
        self._last_shed = 0.0

    def _claim(self) -> int:
        """The first slot that is free, stale or already this process's (under a file lock)."""
        pid, now = self.pid, time.monotonic()
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            for index in range(self.slots):
                owner, _count, published = _SLOT.unpack_from(self._map, index * _SLOT.size)
                if owner in (0, pid) or now - published > 5 * self.LIVE_S:
                    _SLOT.pack_into(self._map, index * _SLOT.size, pid, 0, now)
                    return index
        finally:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        raise RuntimeError(f"all {self.slots} worker slots are taken")

    def saw(self, client: tuple[str, int] | None) -> None:
        """Note a request of ``client`` as it arrives (its connection counts from now on)."""
        if client is not None:
            self._seen[(client[0], client[1])] = time.monotonic()

    def close_after(self, client: tuple[str, int] | None) -> bool:
        """Whether to close ``client``'s connection after this answer (forgotten if so)."""
        if client is None or self._to_shed <= 0:
            return False
        now = time.monotonic()
        if now - self._last_shed < self.SHED_GAP_S:
            return False
        self._to_shed -= 1
        self._last_shed = now
        self._seen.pop((client[0], client[1]), None)
        return True

    def connections(self, now: float) -> int:
        """Client connections that sent a request within the window (older ones forgotten)."""
        cutoff = now - self.ACTIVE_WINDOW_S
        for key in [k for k, seen in self._seen.items() if seen < cutoff]:
            del self._seen[key]
        return len(self._seen)

    def publish(self) -> int:
        """Publish this worker's count, read the others'; returns how many to shed (≥ 0)."""
        now = time.monotonic()
        mine = self.connections(now)
        _SLOT.pack_into(self._map, self._slot * _SLOT.size, self.pid, mine, now)
        total, live = 0, 0
        for index in range(self.slots):
            owner, count, published = _SLOT.unpack_from(self._map, index * _SLOT.size)
            if owner and now - published <= self.LIVE_S:
                total += count
                live += 1
        share = math.ceil(total / live) if live else mine
        # Half the excess per publication, and none for an excess of one: the others' counts
        # lag by a publication and a moved client counts for its new worker only once it
        # sent a request there, so closing the whole excess at once overshot and the
        # workers sent clients back and forth.
        excess = mine - share
        self._to_shed = (excess + 1) // 2 if excess >= 2 else 0
        return self._to_shed

    async def run(self) -> None:
        """Publish every :attr:`PUBLISH_S` until cancelled (a task of the worker's loop)."""
        while True:
            self.publish()
            await asyncio.sleep(self.PUBLISH_S)

    def close(self) -> None:
        """Give the slot up and unmap the board (once; later calls do nothing)."""
        if self._map.closed:
            return
        with contextlib.suppress(ValueError, OSError):
            _SLOT.pack_into(self._map, self._slot * _SLOT.size, 0, 0, 0.0)
            self._map.close()
            os.close(self._fd)
