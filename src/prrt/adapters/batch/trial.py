"""The in-silico trial on Dask: one task per chunk of :mod:`prrt.simulation.trial`.

Chunks are fixed by the settings (not by the number of workers) and merged in
chunk order by :func:`prrt.simulation.trial.combine_chunks`, so a seeded trial
gives the same bits on one worker, two workers or a cluster.
"""

from __future__ import annotations

from collections.abc import Callable

from distributed import Client, as_completed

from prrt.simulation.trial import (
    ChunkResult,
    TrialResult,
    TrialSettings,
    combine_chunks,
    simulate_chunk,
)

__all__ = ["run_trial_on_cluster"]


def run_trial_on_cluster(
    settings: TrialSettings,
    client: Client,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> TrialResult:
    """Run every chunk of ``settings`` as a task on ``client``'s cluster and merge them.

    ``progress`` (optional) is called with (chunks done, chunks in all) as tasks finish.
    """
    total = settings.n_chunks
    futures = [client.submit(simulate_chunk, settings, index, pure=False) for index in range(total)]
    results: list[ChunkResult] = []
    for done, future in enumerate(as_completed(futures), start=1):
        results.append(future.result())
        future.release()
        if progress is not None:
            progress(done, total)
    return combine_chunks(settings, results)
