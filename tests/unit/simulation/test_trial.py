"""In-silico trial: fixed chunks, per-chunk seeds, reproducibility, comparison with publications."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.simulation.published import PUBLISHED_STATISTICS
from prrt.simulation.trial import (
    TRIAL_CHUNK_SIZE,
    TrialSettings,
    chunk_seed,
    combine_chunks,
    run_trial,
    simulate_chunk,
    trial_chunks,
)


def test_chunk_seeds_are_the_spawned_children() -> None:
    children = np.random.SeedSequence(2026).spawn(6)
    for i, child in enumerate(children):
        assert chunk_seed(2026, i).generate_state(4).tolist() == child.generate_state(4).tolist()


def test_chunks_have_a_fixed_size() -> None:
    settings = TrialSettings(n_patients=1_000_000, seed=1)
    chunks = trial_chunks(settings)
    assert settings.chunk_size == TRIAL_CHUNK_SIZE == 50_000
    assert len(chunks) == 20
    assert {c.size for c in chunks} == {50_000}
    assert sum(c.size for c in trial_chunks(TrialSettings(n_patients=123_457, seed=1))) == 123_457


def test_same_seed_same_bits_in_any_chunk_order() -> None:
    settings = TrialSettings(n_patients=7000, seed=11, chunk_size=2000)
    first = run_trial(settings)
    results = [simulate_chunk(settings, i) for i in range(settings.n_chunks)]
    random.Random(0).shuffle(results)
    second = combine_chunks(settings, results)
    assert json.dumps(first.to_dict()) == json.dumps(second.to_dict())
    for name, s in first.summaries.items():
        t = second.summaries[name]
        np.testing.assert_array_equal(s.cycle_counts, t.cycle_counts)
        assert s.sums == t.sums  # bit for bit, not approximately
    other = run_trial(TrialSettings(n_patients=7000, seed=12, chunk_size=2000))
    assert other.summaries["DOSIMETRY_GUIDED"].sums != first.summaries["DOSIMETRY_GUIDED"].sums


def test_missing_or_repeated_chunks_are_refused() -> None:
    settings = TrialSettings(n_patients=3000, seed=1, chunk_size=1000)
    r = [simulate_chunk(settings, i) for i in (0, 1, 1)]
    with pytest.raises(InvalidInputError, match="results"):
        combine_chunks(settings, r)
    with pytest.raises(InvalidInputError, match="index"):
        simulate_chunk(settings, 3)


def test_trial_distributions_and_published_comparison() -> None:
    result = run_trial(TrialSettings(n_patients=20_000, seed=2026))
    d = result.to_dict()
    fixed, guided = d["strategies"]["LUTATHERA_STANDARD"], d["strategies"]["DOSIMETRY_GUIDED"]
    assert fixed["cycles"]["counts"] == {"4": 20_000}
    assert guided["cycles"]["max"] <= 8  # the regimen's cycle limit
    # Every guided course ends at 8 cycles or at a limit; the fractions add up to 1.
    assert sum(guided["stop_fractions"].values()) == pytest.approx(1.0)
    assert guided["stopped_by_limits_fraction"] == pytest.approx(
        1.0 - guided["stop_fractions"]["completed"]
    )
    # The guided course gives more activity and kidney dose than the fixed course at the median
    # (Santoro 2018 kidney dose 0.43 Gy/GBq allows ~7 cycles under 23 Gy).
    assert (
        guided["quantities"]["total_activity_bq"]["p50"]
        > fixed["quantities"]["total_activity_bq"]["p50"]
    )
    # Fixed course, marrow: 0.04 Gy/GBq × 29.6 GBq = 1.18 Gy on average (dosimetry-reference.md §6.2).
    assert fixed["quantities"]["red_marrow_absorbed_dose_gy"]["mean"] == pytest.approx(
        1.184, rel=0.03
    )
    # Fixed course, kidneys: 0.43 Gy/GBq × 29.6 GBq = 12.7 Gy on average (Santoro 2018).
    assert fixed["quantities"]["kidneys_absorbed_dose_gy"]["mean"] == pytest.approx(12.73, rel=0.02)
    ids = {c["id"] for c in d["published_comparison"]}
    assert ids == {p.id for p in PUBLISHED_STATISTICS}
    sundlov = next(c for c in d["published_comparison"] if c["id"] == "SUNDLOV-2022-CYCLES-MEDIAN")
    assert sundlov["published"] == 5.0
    assert sundlov["simulated"] == guided["cycles"]["median"]


def test_bad_settings_are_refused() -> None:
    for kwargs, field in (
        ({"n_patients": 0, "seed": 1}, "n_patients"),
        ({"n_patients": 10, "seed": -1}, "seed"),
        ({"n_patients": 10, "seed": 1, "chunk_size": 0}, "chunk_size"),
        ({"n_patients": 10, "seed": 1, "strategies": ()}, "strategies"),
    ):
        with pytest.raises(InvalidInputError, match=field):
            TrialSettings(**kwargs)
