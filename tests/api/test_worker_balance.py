"""Worker processes even out their keep-alive connections (``prrt serve --workers N``).

Unit tests of the board and the shedding rule (analytic: share = ceil(total / live), half
the excess per publication, none for an excess of one),
then the real thing: ``prrt serve --workers 2``, 20 keep-alive clients connected in one
burst, and the connections each worker process holds afterwards, counted by the kernel.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time

import psutil
import pytest

from prrt.adapters.api.worker_balance import ConnectionBalancer, create_board


def _clients(balancer: ConnectionBalancer, n: int, first_port: int = 40000) -> None:
    for port in range(first_port, first_port + n):
        balancer.saw(("127.0.0.1", port))


@pytest.fixture
def pair(tmp_path):
    board = create_board(tmp_path, 2)
    a, b = ConnectionBalancer(board, pid=101), ConnectionBalancer(board, pid=102)
    a.SHED_GAP_S = b.SHED_GAP_S = 0.0  # every request may shed (the gap is tested apart)
    yield a, b
    a.close()
    b.close()


def test_the_crowded_worker_sheds_half_its_excess_per_publication(pair):
    a, b = pair
    _clients(a, 14)
    _clients(b, 2, first_port=50000)
    b.publish()
    assert a.publish() == 3  # share ceil(16 / 2) = 8; excess 6, half of it
    assert b.publish() == 0
    closed = [a.close_after(("127.0.0.1", 40000 + i)) for i in range(5)]
    assert closed == [True, True, True, False, False]
    assert a.connections(time.monotonic()) == 11  # the closed ones are forgotten at once
    # the three reconnect to the other worker and send a request there
    _clients(b, 3, first_port=50100)
    b.publish()
    assert a.publish() == 2  # share 8 again; excess 3, half of it rounded up


def test_an_excess_of_one_sheds_nothing(pair):
    a, b = pair
    _clients(a, 13)
    _clients(b, 12, first_port=50000)
    b.publish()
    assert a.publish() == 0  # share ceil(25 / 2) = 13
    _clients(a, 1, first_port=41000)
    assert a.publish() == 0  # 14 against a share of 13: within one
    assert not a.close_after(("127.0.0.1", 40000))


def test_a_worker_that_stopped_publishing_holds_no_share(pair):
    a, b = pair
    _clients(a, 8)
    _clients(b, 8, first_port=50000)
    b.publish()
    assert a.publish() == 0
    b.close()  # gone: its slot is freed
    assert a.publish() == 0  # alone: its share is everything


def test_one_connection_shed_per_gap_at_most(tmp_path):
    board = create_board(tmp_path, 2)
    a, b = ConnectionBalancer(board, pid=201), ConnectionBalancer(board, pid=202)
    a.SHED_GAP_S = 60.0
    _clients(a, 10)
    b.publish()
    assert a.publish() == 3  # share 5, excess 5, half of it rounded up
    assert a.close_after(("127.0.0.1", 40000)) is True
    assert a.close_after(("127.0.0.1", 40001)) is False  # within the gap
    a.close()
    b.close()


def test_a_dead_workers_slot_is_claimed_again_and_a_full_board_is_refused(tmp_path):
    board = create_board(tmp_path, 2)
    ConnectionBalancer(board, pid=301)  # never publishes again nor closes: dies
    second = ConnectionBalancer(board, pid=302)
    with pytest.raises(RuntimeError, match="all 2 worker slots are taken"):
        ConnectionBalancer(board, pid=303)
    # A slot unpublished for longer than five live periods belongs to no live worker.
    ConnectionBalancer.LIVE_S, saved = 0.0, ConnectionBalancer.LIVE_S
    try:
        assert ConnectionBalancer(board, pid=304).slots == 2
    finally:
        ConnectionBalancer.LIVE_S = saved
    second.close()


def test_bad_boards_are_refused(tmp_path):
    with pytest.raises(ValueError, match="two or more workers, not 1"):
        create_board(tmp_path, 1)
    odd = tmp_path / "odd.board"
    odd.write_bytes(b"123")
    with pytest.raises(ValueError, match="is not a worker board"):
        ConnectionBalancer(odd)


# --------------------------------------------------------------------------- real workers


def _established_per_process(pid: int, port: int) -> list[int]:
    counts = []
    for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        n = sum(
            1
            for c in p.net_connections(kind="tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
        )
        if n:
            counts.append(n)
    return sorted(counts, reverse=True)


def test_two_workers_end_up_with_an_even_split_of_keep_alive_clients(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "prrt.adapters.cli.app", "serve"),
            *("--data-dir", str(tmp_path), "--port", str(port), "--workers", "2"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/sign-in")
                if probe.getresponse().status == 200:
                    probe.close()
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("prrt serve --workers 2 did not start")
        time.sleep(1.5)  # both workers up and publishing
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(20)]
        for c in clients:
            c.connect()  # one burst: the kernel gives them to whichever worker accepts
        answered, reconnects = 0, 0
        end = time.monotonic() + 4.0
        while time.monotonic() < end:
            for c in clients:
                c.request("GET", "/sign-in")
                r = c.getresponse()
                r.read()
                assert r.status == 200  # nothing lost: a shed connection's answer is whole
                answered += 1
                if r.getheader("connection", "").lower() == "close":
                    c.close()
                    c.connect()
                    reconnects += 1
        split = _established_per_process(proc.pid, port)
        assert sum(split) == 20, split
        assert len(split) == 2, split
        assert max(split) <= 11, split  # share ceil(20 / 2) = 10, one in flight
        assert answered > 100
        for c in clients:
            c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
