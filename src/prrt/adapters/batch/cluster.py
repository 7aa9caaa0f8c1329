"""A Dask client: on a new local cluster of worker processes, or on a running scheduler.

Local clusters run one thread per worker process (NumPy work holds the GIL
between calls, processes scale), their HTTP server on a free port.  A scheduler address
(``tcp://host:8786``) connects to a cluster started with ``dask scheduler`` and
``dask worker`` (``docs/batch.md``); its workers must have ``prrt`` installed
and, for batch dosimetry, see the study and output folders at the same paths.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster

from prrt.errors import InvalidInputError

__all__ = ["CONNECT_TIMEOUT_S", "MAX_LOCAL_WORKERS", "dask_client", "default_workers"]

#: Most worker processes of a local cluster.
MAX_LOCAL_WORKERS = 256
#: Seconds to wait for a scheduler given by address.
CONNECT_TIMEOUT_S = 10.0


def default_workers() -> int:
    """Worker processes of a local cluster when none is asked for: one per CPU core."""
    return max(1, os.cpu_count() or 1)


@contextmanager
def dask_client(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    timeout_s: float | None = None,
) -> Iterator[Client]:
    """Yield a client on ``scheduler`` or on a new local cluster of ``workers`` processes.

    Raises
    ------
    InvalidInputError
        ``--scheduler`` not reachable (with the reason), ``--workers`` out of
        range, or ``--workers`` given together with ``--scheduler``.
    """
    if scheduler is not None:
        if workers is not None:
            raise InvalidInputError(
                "--workers",
                workers,
                "no --workers with --scheduler (a running cluster has its own workers)",
            )
        if not isinstance(scheduler, str) or "://" not in scheduler:
            raise InvalidInputError(
                "--scheduler", scheduler, "a scheduler address such as tcp://host:8786"
            )
        try:
            client = Client(
                scheduler, timeout=CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
            )
        except (OSError, TimeoutError, ValueError) as err:
            raise InvalidInputError(
                "--scheduler",
                scheduler,
                "the address of a running Dask scheduler such as tcp://host:8786",
                hint=f"{type(err).__name__}: {err}; start one with 'dask scheduler'",
            ) from err
        with client:
            yield client
        return
    n = default_workers() if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_LOCAL_WORKERS:
        raise InvalidInputError(
            "--workers", workers, f"a number of local worker processes in 1..{MAX_LOCAL_WORKERS}"
        )
    # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 in their workers (against memory
    # fragmentation of long-lived workers); it also fixes glibc's mmap threshold, so that every
    # large NumPy temporary becomes fresh pages: a third of the run time of the trial in system
    # time.  The workers of a local cluster live for one command: keep glibc's defaults there
    # (None unsets a variable of the nanny's environment; docs/batch.md for a cluster).
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}),
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: no clash with another cluster
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
