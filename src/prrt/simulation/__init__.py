"""In-silico trials: virtual patients with population kinetics, and courses under dosing strategies.

The question of the seed review's §7.7 — a fixed 4 × 7.4 GBq course or
dosimetry-guided cycles? — explored on virtual patients before a trial:

``population``
    :class:`PopulationModel` (log-normal organ masses, uptakes and effective
    half-lives of kidneys, red marrow, liver, spleen and a tumour, calibrated to
    the published doses per activity of dosimetry-reference.md §7, every
    parameter with its source) and :func:`draw_patients`.
``strategies``
    :class:`CourseStrategy` (``fixed_course()``, ``dosimetry_guided_course()``)
    and :func:`simulate_course`: the rule of :func:`prrt.planning.decide_next_cycle`
    vectorised over patients, activity for activity.
``summary``
    :class:`StrategySummary`: mergeable counts, histograms and sums.
``published``
    Published distributions (Sundlöv 2022 and others) and the comparison.
``trial``
    :class:`TrialSettings`, :func:`simulate_chunk` (fixed chunks, per-chunk seeds
    from ``SeedSequence(seed)``), :func:`combine_chunks` and :func:`run_trial`.

This package is core: NumPy and prrt only; ``prrt.adapters.batch`` runs the
chunks on Dask.

Examples
--------
>>> result = run_trial(TrialSettings(n_patients=1000, seed=3))
>>> result.summaries["LUTATHERA_STANDARD"].cycles_range
(4, 4)
"""

from prrt.simulation.population import (
    REGIONS,
    OrganPopulation,
    PopulationModel,
    SourcedValue,
    VirtualPatients,
    draw_patients,
    load_population_model,
    population_model_names,
)
from prrt.simulation.published import (
    PUBLISHED_STATISTICS,
    PublishedStatistic,
    compare_with_published,
)
from prrt.simulation.strategies import (
    BED_REGIONS,
    COMPLETED,
    CourseOutcome,
    CourseStrategy,
    dosimetry_guided_course,
    fixed_course,
    simulate_course,
)
from prrt.simulation.summary import HistogramSpec, StrategySummary, summarise_outcome
from prrt.simulation.trial import (
    TRIAL_CHUNK_SIZE,
    ChunkResult,
    TrialChunk,
    TrialResult,
    TrialSettings,
    chunk_seed,
    combine_chunks,
    run_trial,
    simulate_chunk,
    trial_chunks,
)

__all__ = [
    "BED_REGIONS",
    "COMPLETED",
    "PUBLISHED_STATISTICS",
    "REGIONS",
    "TRIAL_CHUNK_SIZE",
    "ChunkResult",
    "CourseOutcome",
    "CourseStrategy",
    "HistogramSpec",
    "OrganPopulation",
    "PopulationModel",
    "PublishedStatistic",
    "SourcedValue",
    "StrategySummary",
    "TrialChunk",
    "TrialResult",
    "TrialSettings",
    "VirtualPatients",
    "chunk_seed",
    "combine_chunks",
    "compare_with_published",
    "dosimetry_guided_course",
    "draw_patients",
    "fixed_course",
    "load_population_model",
    "population_model_names",
    "run_trial",
    "simulate_chunk",
    "simulate_course",
    "summarise_outcome",
    "trial_chunks",
]
