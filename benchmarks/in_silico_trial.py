"""Benchmark of the in-silico trial: 10⁶ virtual patients through both strategies on Dask.

Prints the seconds for N virtual patients (default 10⁶) through the fixed
4 × 7.4 GBq course and the dosimetry-guided course

* in this process (``prrt.simulation.run_trial``, one core, no Dask);
* on a local Dask cluster of 1 worker process and of 2 worker processes
  (``prrt.adapters.batch.run_trial_on_cluster``), each after a warm-up task so that
  the workers' imports are not timed (cluster start-up is printed separately),
  one cluster at a time, in turn (1, 2, 1, 2, …; best of ``--repeat``) so that a
  passing load on a shared machine slows both alike;

the speed-up from one to two workers, and checks that the three results are the
same bits (fixed 50 000-patient chunks, per-chunk seeds).  Targets on 2 CPU
cores: ≤ 30 s for 10⁶ patients × 2 strategies on 2 workers, speed-up ≥ 1.7×.
The last line printed is a JSON object with all figures.

Usage: ``.venv/bin/python benchmarks/in_silico_trial.py [--patients N] [--seed S] [--repeat R]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

TARGET_SECONDS = 30.0
TARGET_SPEEDUP = 1.7


def _worker_cpu_s(client: Any) -> float:
    """User + system CPU seconds of all worker processes so far."""
    times = client.run(lambda: os.times()[:2])
    return float(sum(u + s for u, s in times.values()))


def _same_bits(a: Any, b: Any) -> bool:
    import numpy as np

    for name, s in a.summaries.items():
        t = b.summaries[name]
        if not (
            np.array_equal(s.cycle_counts, t.cycle_counts)
            and s.sums == t.sums
            and s.sums_of_squares == t.sums_of_squares
            and all(np.array_equal(s.histograms[q], t.histograms[q]) for q in s.histograms)
        ):
            return False
    return json.dumps(a.to_dict()) == json.dumps(b.to_dict())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--repeat", type=int, default=4, help="timed runs per cluster (best kept)")
    parser.add_argument("--no-serial", action="store_true", help="skip the in-process run")
    args = parser.parse_args()

    from prrt.adapters.batch import dask_client, run_trial_on_cluster
    from prrt.simulation import TrialSettings, run_trial

    settings = TrialSettings(n_patients=args.patients, seed=args.seed)
    warmup = TrialSettings(n_patients=1000, seed=1)
    figures: dict[str, Any] = {
        "benchmark": "in_silico_trial",
        "patients": settings.n_patients,
        "strategies": [s.name for s in settings.strategies],
        "chunks": settings.n_chunks,
        "chunk_size": settings.chunk_size,
        "cpu_cores": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        # Other jobs on the machine show here (a shared 2-core machine: compare with 2.0).
        "load_average_1min_start": os.getloadavg()[0],
    }
    serial = None
    if not args.no_serial:
        run_trial(warmup)
        start = time.perf_counter()
        serial = run_trial(settings)
        figures["in_process_s"] = time.perf_counter() - start
        print(f"in process (1 core, no Dask): {figures['in_process_s']:.2f} s")
    results: dict[int, Any] = {}
    best = {1: float("inf"), 2: float("inf")}
    cores = {1: 0.0, 2: 0.0}
    # One cluster at a time (an idle cluster's processes still take some CPU), in turn
    # 1, 2, 1, 2, ...: a load that comes and goes on a shared machine slows both alike.
    for _ in range(max(1, args.repeat)):
        for workers in (1, 2):
            start = time.perf_counter()
            with dask_client(workers=workers) as client:
                started = time.perf_counter() - start
                run_trial_on_cluster(warmup, client)  # imports on every worker
                cpu0 = _worker_cpu_s(client)
                t0 = time.perf_counter()
                results[workers] = run_trial_on_cluster(settings, client)
                wall = time.perf_counter() - t0
                if wall < best[workers]:
                    best[workers] = wall
                    # CPU the workers obtained during the run: below `workers` cores when other
                    # jobs share the machine (then the speed-up measures the machine, not prrt).
                    cores[workers] = (_worker_cpu_s(client) - cpu0) / wall
            figures[f"cluster_start_{workers}_workers_s"] = started
    for workers in (1, 2):
        figures[f"time_{workers}_workers_s"] = best[workers]
        figures[f"cores_obtained_{workers}_workers"] = cores[workers]
        print(
            f"{workers} worker(s): {best[workers]:.2f} s for {settings.n_patients} patients × "
            f"{len(settings.strategies)} strategies (best of {args.repeat}; workers used "
            f"{cores[workers]:.2f} cores; cluster start "
            f"{figures[f'cluster_start_{workers}_workers_s']:.1f} s, not included)"
        )
    figures["load_average_1min_end"] = os.getloadavg()[0]
    speedup = figures["time_1_workers_s"] / figures["time_2_workers_s"]
    figures["speedup_1_to_2_workers"] = speedup
    identical = _same_bits(results[1], results[2]) and (
        serial is None or _same_bits(results[1], serial)
    )
    figures["bit_identical_across_workers"] = identical
    guided = results[2].summaries["DOSIMETRY_GUIDED"]
    fixed = results[2].summaries["LUTATHERA_STANDARD"]
    figures["guided_cycles_median"] = guided.cycles_median
    figures["guided_cycles_range"] = list(guided.cycles_range)
    figures["guided_fraction_more_than_4"] = guided.fraction_more_cycles_than(4)
    figures["fixed_kidney_dose_median_gy"] = fixed.quantile("kidneys_absorbed_dose_gy", 0.5)
    figures["guided_kidney_dose_median_gy"] = guided.quantile("kidneys_absorbed_dose_gy", 0.5)
    figures["target_time_s"] = TARGET_SECONDS
    figures["target_speedup"] = TARGET_SPEEDUP
    figures["time_target_met"] = figures["time_2_workers_s"] <= TARGET_SECONDS
    figures["speedup_target_met"] = speedup >= TARGET_SPEEDUP
    print(
        f"speed-up 1 → 2 workers: {speedup:.2f}× (target ≥ {TARGET_SPEEDUP}); "
        f"2 workers {figures['time_2_workers_s']:.2f} s (target ≤ {TARGET_SECONDS:g} s); "
        f"bit-identical across worker counts: {identical}"
    )
    print(
        f"guided: median {guided.cycles_median} cycles, range {guided.cycles_range}; "
        f"Sundlöv 2022: median 5, range 1–9"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
