"""In-silico trial: N virtual patients through several dosing strategies, in reproducible chunks.

The population is cut into chunks of a fixed size (:data:`TRIAL_CHUNK_SIZE`,
independent of how many workers run them); chunk ``i`` draws its patients from
``numpy.random.SeedSequence(seed).spawn(...)[i]`` (:func:`chunk_seed`), runs every
strategy on the same patients (common random numbers: the strategies are
compared patient by patient) and reduces each outcome to a
:class:`~prrt.simulation.summary.StrategySummary`.  :func:`combine_chunks` merges
the chunk summaries in chunk order.  A trial therefore gives the same bits
whether its chunks run in one process (:func:`run_trial`) or on any number of
Dask workers (``prrt.adapters.batch.trial``), which call :func:`simulate_chunk`.

Examples
--------
>>> result = run_trial(TrialSettings(n_patients=2000, seed=7))
>>> fixed, guided = result.summaries["LUTATHERA_STANDARD"], result.summaries["DOSIMETRY_GUIDED"]
>>> fixed.cycles_median, guided.n_patients
(4, 2000)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prrt.errors import InvalidInputError
from prrt.simulation.population import PopulationModel, draw_patients, load_population_model
from prrt.simulation.published import compare_with_published
from prrt.simulation.strategies import (
    BED_REGIONS,
    CourseOutcome,
    CourseStrategy,
    concatenate_outcomes,
    dosimetry_guided_course,
    fixed_course,
    simulate_course,
)
from prrt.simulation.summary import (
    HistogramSpec,
    StrategySummary,
    histogram_specs,
    summarise_outcome,
)

__all__ = [
    "BLOCK_PATIENTS",
    "TRIAL_CHUNK_SIZE",
    "ChunkResult",
    "TrialChunk",
    "TrialResult",
    "TrialSettings",
    "chunk_seed",
    "combine_chunks",
    "run_trial",
    "simulate_chunk",
    "trial_chunks",
]

#: Patients per chunk.  Fixed, so that results do not depend on the number of workers.
TRIAL_CHUNK_SIZE = 50_000
#: Patients drawn and simulated together inside a chunk (their arrays fit in a core's cache).
BLOCK_PATIENTS = 2048
_MAX_PATIENTS = 10**9


def _default_strategies() -> tuple[CourseStrategy, ...]:
    return (fixed_course(), dosimetry_guided_course())


@dataclass(frozen=True)
class TrialSettings:
    """What to simulate: how many patients, the seed, the population and the strategies."""

    n_patients: int
    seed: int
    population: PopulationModel = field(default_factory=load_population_model)
    strategies: tuple[CourseStrategy, ...] = field(default_factory=_default_strategies)
    chunk_size: int = TRIAL_CHUNK_SIZE

    def __post_init__(self) -> None:
        n = self.n_patients
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= _MAX_PATIENTS:
            raise InvalidInputError("n_patients", n, f"a number of patients in 1..{_MAX_PATIENTS}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInputError("seed", self.seed, "a non-negative integer")
        c = self.chunk_size
        if isinstance(c, bool) or not isinstance(c, int) or c < 1:
            raise InvalidInputError("chunk_size", c, "a positive number of patients per chunk")
        if not self.strategies:
            raise InvalidInputError("strategies", self.strategies, "at least one strategy")
        names = [s.name for s in self.strategies]
        if len(set(names)) != len(names):
            raise InvalidInputError("strategies", names, "strategies with distinct names")

    @property
    def max_cycles(self) -> int:
        """Most cycles any strategy allows (cycles drawn per patient)."""
        return max(s.max_cycles for s in self.strategies)

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return -(-self.n_patients // self.chunk_size)

    @property
    def specs(self) -> tuple[HistogramSpec, ...]:
        """Histogram bins of every strategy."""
        top = max(s.full_activity_bq * s.max_cycles for s in self.strategies)
        return histogram_specs(self.population.regions, BED_REGIONS, top)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "n_patients": self.n_patients,
            "seed": self.seed,
            "chunk_size": self.chunk_size,
            "n_chunks": self.n_chunks,
            "population": self.population.name,
            "strategies": [s.to_dict() for s in self.strategies],
        }


@dataclass(frozen=True, slots=True)
class TrialChunk:
    """Chunk ``index``: patients ``start .. start + size − 1``."""

    index: int
    start: int
    size: int


def trial_chunks(settings: TrialSettings) -> tuple[TrialChunk, ...]:
    """The chunks of a trial (the last one may be smaller).

    Examples
    --------
    >>> [(c.index, c.size) for c in trial_chunks(TrialSettings(n_patients=120_001, seed=1))]
    [(0, 50000), (1, 50000), (2, 20001)]
    """
    size = settings.chunk_size
    return tuple(
        TrialChunk(i, i * size, min(size, settings.n_patients - i * size))
        for i in range(settings.n_chunks)
    )


def chunk_seed(seed: int, index: int) -> np.random.SeedSequence:
    """Seed of chunk ``index``: child ``index`` of ``SeedSequence(seed)`` (as ``spawn`` makes it).

    Examples
    --------
    >>> chunk_seed(42, 3).generate_state(2).tolist() == (
    ...     np.random.SeedSequence(42).spawn(5)[3].generate_state(2).tolist())
    True
    """
    return np.random.SeedSequence(seed, spawn_key=(index,))


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """The summaries of one chunk, one per strategy (in the settings' order)."""

    index: int
    summaries: tuple[StrategySummary, ...]


def simulate_chunk(settings: TrialSettings, index: int) -> ChunkResult:
    """Draw chunk ``index``'s patients and run every strategy on them.

    The chunk is worked through in blocks of :data:`BLOCK_PATIENTS` patients
    drawn one after the other from the chunk's generator (each block's arrays
    stay in the processor's cache while every strategy runs on it); the block
    outcomes are put together and summarised once per strategy.

    Raises
    ------
    InvalidInputError
        For an index outside the trial's chunks.
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < settings.n_chunks:
        raise InvalidInputError("index", index, f"a chunk index in 0..{settings.n_chunks - 1}")
    chunk = trial_chunks(settings)[index]
    rng = np.random.default_rng(chunk_seed(settings.seed, index))
    outcomes: list[list[CourseOutcome]] = [[] for _ in settings.strategies]
    for lo in range(0, chunk.size, BLOCK_PATIENTS):
        n = min(BLOCK_PATIENTS, chunk.size - lo)
        patients = draw_patients(settings.population, n, max_cycles=settings.max_cycles, rng=rng)
        for per_strategy, strategy in zip(outcomes, settings.strategies, strict=True):
            per_strategy.append(simulate_course(patients, strategy))
    specs = settings.specs
    summaries = tuple(
        summarise_outcome(concatenate_outcomes(o), specs, settings.max_cycles) for o in outcomes
    )
    return ChunkResult(index, summaries)


@dataclass(frozen=True, eq=False)
class TrialResult:
    """A trial's merged summaries per strategy, with the comparison with published distributions."""

    settings: TrialSettings
    summaries: Mapping[str, StrategySummary]

    def comparisons(self) -> list[dict[str, Any]]:
        """Simulated beside published statistics (:mod:`prrt.simulation.published`)."""
        return compare_with_published(self.summaries)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary: settings, population, strategies, comparisons."""
        return {
            "settings": self.settings.to_dict(),
            "population": self.settings.population.to_dict(),
            "strategies": {name: s.to_dict() for name, s in self.summaries.items()},
            "published_comparison": self.comparisons(),
            "notes": [
                "doses and BEDs are the true (delivered) values; the dosimetry-guided rule decides "
                "on measured doses (true × measurement error)",
                "courses end only by the regimen's number of cycles or a dose limit: toxicity, "
                "progression and death are not simulated",
                "quantiles are read from fixed-bin histograms (error ≤ bin_width)",
            ],
        }


def combine_chunks(settings: TrialSettings, results: Iterable[ChunkResult]) -> TrialResult:
    """Merge chunk results (any order given; merged in chunk order).

    Raises
    ------
    InvalidInputError
        When chunks are missing or repeated.
    """
    ordered = sorted(results, key=lambda r: r.index)
    indices = [r.index for r in ordered]
    if indices != list(range(settings.n_chunks)):
        raise InvalidInputError(
            "results", indices, f"one result for each chunk 0..{settings.n_chunks - 1}"
        )
    merged: list[StrategySummary] = list(ordered[0].summaries)
    for r in ordered[1:]:
        merged = [a.merge(b) for a, b in zip(merged, r.summaries, strict=True)]
    return TrialResult(settings, {s.strategy: s for s in merged})


def run_trial(
    settings: TrialSettings,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> TrialResult:
    """Run a trial in this process, chunk after chunk.

    ``progress`` (optional) is called with (chunks done, chunks in all).
    """
    results = []
    for i in range(settings.n_chunks):
        results.append(simulate_chunk(settings, i))
        if progress is not None:
            progress(i + 1, settings.n_chunks)
    return combine_chunks(settings, results)
