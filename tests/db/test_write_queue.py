"""Writers queue in the process and across processes; views are audited at commit."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from sqlalchemy import func, select

from prrt.adapters.db import engine as engine_module
from prrt.adapters.db.audit import record_view, verify_chain
from prrt.adapters.db.engine import begin_write, make_engine, upgrade
from prrt.adapters.db.tables import AuditEvent

pytestmark = pytest.mark.db


def _events(factory) -> int:
    with factory() as s:
        return int(s.execute(select(func.count(AuditEvent.id))).scalar_one())


def test_a_view_is_appended_when_the_transaction_commits(factory):
    before = _events(factory)
    with factory() as s:
        record_view(s, username="tester", entity="patient", entity_id=1)
        assert _events(factory) == before  # noted, not yet appended
        s.commit()
    assert _events(factory) == before + 1
    with factory() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert (last.action, last.entity, last.username) == ("view", "patient", "tester")
        assert verify_chain(s)[1] == ()


def test_a_view_of_a_failed_transaction_is_not_recorded(factory):
    before = _events(factory)
    with factory() as s:
        record_view(s, username="tester", entity="patient", entity_id=1)
        s.rollback()
        s.commit()  # a later transaction of the same session does not append it either
    assert _events(factory) == before


def test_writers_of_one_process_queue_and_the_lock_is_released(tmp_path):
    """Eight threads write at once on SQLite: none waits in SQLite's busy handler, all
    commit, and the writer lock is free afterwards (it is released at transaction end)."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    eng = make_engine(url)
    upgrade(eng)
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(bind=eng)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                with factory() as s:
                    record_view(s, username="t", entity="patient", entity_id=1)
                    s.commit()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as s:
        count, problems = verify_chain(s)
    assert (count, problems) == (80, ())
    lock = engine_module._write_lock(eng)
    assert lock.acquire(blocking=False)
    lock.release()
    eng.dispose()


def _try_lock(database: str, queue) -> None:  # runs in a child process
    lock = engine_module._ProcessWriterLock(database)
    start = time.monotonic()
    got = lock.acquire(0.2)
    queue.put((got, time.monotonic() - start))
    if got:
        lock.release()


@pytest.mark.skipif(engine_module.fcntl is None, reason="flock needs fcntl (not on Windows)")
def test_the_file_lock_excludes_another_process(tmp_path):
    database = str(tmp_path / "x.db")
    mine = engine_module._ProcessWriterLock(database)
    assert mine.acquire(1.0)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_try_lock, args=(database, queue))
    child.start()
    got, waited_s = queue.get(timeout=60)
    child.join(timeout=60)
    assert got is False  # held here: the other process times out
    assert waited_s >= 0.2
    mine.release()
    child = ctx.Process(target=_try_lock, args=(database, queue))
    child.start()
    got, _ = queue.get(timeout=60)
    child.join(timeout=60)
    assert got is True  # released: the other process gets it


def test_begin_write_is_a_no_op_on_postgresql_and_takes_the_lock_on_sqlite(factory):
    with factory() as s:
        begin_write(s)
        holds = s.info.get(engine_module._HOLDS_WRITE_LOCK) is not None
        assert holds == (s.get_bind().dialect.name == "sqlite")
        s.rollback()
        assert s.info.get(engine_module._HOLDS_WRITE_LOCK) is None
