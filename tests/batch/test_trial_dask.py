"""The in-silico trial on real local Dask clusters: the same bits with 1 and 2 workers and in-process."""

from __future__ import annotations

import json

import numpy as np
from distributed import Client

from prrt.adapters.batch import run_trial_on_cluster
from prrt.simulation.trial import TrialSettings, run_trial


def _assert_same_bits(a: object, b: object) -> None:
    from prrt.simulation.trial import TrialResult

    assert isinstance(a, TrialResult)
    assert isinstance(b, TrialResult)
    assert list(a.summaries) == list(b.summaries)
    for name, s in a.summaries.items():
        t = b.summaries[name]
        assert s.n_patients == t.n_patients
        np.testing.assert_array_equal(s.cycle_counts, t.cycle_counts)
        assert s.stop_counts == t.stop_counts
        assert s.over_limit_counts == t.over_limit_counts
        for q in s.histograms:
            np.testing.assert_array_equal(s.histograms[q], t.histograms[q])
        # floating-point sums compared with ==: the chunks are merged in the same order
        assert s.sums == t.sums
        assert s.sums_of_squares == t.sums_of_squares
        assert s.minima == t.minima
        assert s.maxima == t.maxima
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())


def test_seeded_trial_is_bit_identical_on_one_and_two_workers(
    client_one_worker: Client, client_two_workers: Client
) -> None:
    settings = TrialSettings(n_patients=45_000, seed=20260615, chunk_size=5_000)
    assert len(client_one_worker.scheduler_info()["workers"]) == 1
    assert len(client_two_workers.scheduler_info()["workers"]) == 2
    progress: list[tuple[int, int]] = []
    one = run_trial_on_cluster(settings, client_one_worker)
    two = run_trial_on_cluster(
        settings, client_two_workers, progress=lambda d, t: progress.append((d, t))
    )
    _assert_same_bits(one, two)
    _assert_same_bits(one, run_trial(settings))
    assert progress[-1] == (9, 9)
    assert len(progress) == 9
    # both workers took part
    who = client_two_workers.run(lambda: 1)
    assert len(who) == 2


def test_default_chunking_is_independent_of_workers(client_two_workers: Client) -> None:
    # 120 001 patients in the fixed 50 000-patient chunks: 3 tasks whatever the cluster.
    settings = TrialSettings(n_patients=120_001, seed=3)
    assert settings.n_chunks == 3
    result = run_trial_on_cluster(settings, client_two_workers)
    _assert_same_bits(result, run_trial(settings))
    assert result.summaries["DOSIMETRY_GUIDED"].n_patients == 120_001
