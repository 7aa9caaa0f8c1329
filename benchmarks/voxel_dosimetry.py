"""Benchmark of voxel dosimetry: dose convolution and voxel TIA, against in-process baselines.

For a 128³ and a 256³ study it prints seconds for

* the dose convolution — prrt's ``convolve_kernel`` (float32 real FFT, cached
  kernel transform, all cores; PyTorch on a GPU when one is present) against
  the method of the leading open-source peer, ``scipy.signal.fftconvolve`` in
  float64 with a 51³ kernel (``peers.md`` §7), on the same random TIA map and
  the same 51³ Lu-177 kernel; the results must agree (max |Δ| < 1e-4 of the
  maximum);
* the voxel TIA — prrt's vectorised bi-exponential fit chain for 4 time points
  against a loop of ``scipy.optimize.curve_fit`` (bi-exponential) over a sample
  of voxels, extrapolated to all voxels;

and the ratio baseline/prrt. Targets: on 2 CPU cores, dose convolution ≥ 3×
faster than the baseline and 4 × 128³ bi-exponential TIA ≤ 5 s; on an NVIDIA
H200, 256³ dose ≤ 5 ms and voxel TIA ≤ 100 ms (times with the data resident on
the GPU, after a warm-up, with ``torch.cuda.synchronize()`` around each
measurement; the time including host↔device copies is printed too).

On a GPU the voxel TIA figures are: ``tia_prrt_s`` — ``fit_tia_curves`` on a
float32 ``(4, n³)`` tensor resident on the GPU, result left there (the target
figure); ``tia_first_call_incl_compile_s`` — the warm-up call, which includes
``torch.compile`` of the fit (once per process; ``PRRT_TORCH_COMPILE=0`` turns
it off); ``tia_eager_no_compile_s`` — the same fit without compilation;
``tia_end_to_end_with_copies_s`` — ``fit_voxel_tia`` from NumPy maps to a NumPy
TIA map (input validation on the CPU, copies both ways). The compiled result is
compared with the eager one (all voxels) and with the NumPy path (first 2^17
voxels): ``tia_vs_*_median/p99/sum_rel_diff``, ``*_same_method_fraction``.

The device is chosen automatically (CUDA when present; ``--device cpu`` forces
the CPU). ``--quick`` runs one repetition and a smaller baseline sample. The
last line printed is a JSON object with all figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy
from scipy import optimize, signal

from prrt.dosimetry.voxel._array_ops import compile_failures
from prrt.dosimetry.voxel.backends import COMPILE_ENV_VAR, select_backend
from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.kernels import voxel_kernel
from prrt.dosimetry.voxel.tia import fit_tia_curves, fit_voxel_tia
from prrt.physics import get_nuclide

TIMES_S = np.array([4.0, 24.0, 96.0, 168.0]) * 3600.0
SPACING_MM = 4.42


def _timed(
    fn: Callable[[], Any], repeats: int, sync: Callable[[], None] | None = None
) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls after one warm-up call."""
    result = fn()
    if sync:
        sync()
    times = []
    for _ in range(repeats):
        if sync:
            sync()
        start = time.perf_counter()
        result = fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _curves(
    n_voxels: int, rng: np.random.Generator, lam_phys: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bi-exponential voxel TACs (uptake and clearance mixed) with 5 % noise, and their truth."""
    lam_s = lam_phys + rng.uniform(0.0, 0.6, n_voxels) / 86400.0
    lam_f = lam_s + rng.uniform(0.05, 0.5, n_voxels) / 3600.0
    a_s = rng.uniform(1e3, 1e5, n_voxels)
    a_f = a_s * rng.uniform(-1.0, 1.0, n_voxels)
    curves = a_f * np.exp(-lam_f * TIMES_S[:, None]) + a_s * np.exp(-lam_s * TIMES_S[:, None])
    curves *= rng.normal(1.0, 0.05, curves.shape)
    return curves.astype(np.float32), a_f / lam_f + a_s / lam_s


def _host(x: Any) -> Any:
    """A NumPy view of ``x``; torch tensors (possibly on a GPU) are copied to the host."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return x


def _agreement(
    name: str, tia: np.ndarray, code: Any, other: np.ndarray, other_code: Any
) -> dict[str, float]:
    """Relative TIA differences and method agreement of two fits of the same curves."""
    tia, code, other, other_code = (_host(x) for x in (tia, code, other, other_code))
    other = np.asarray(other, dtype=np.float64)
    diff = np.abs(np.asarray(tia, dtype=np.float64) - other) / np.maximum(np.abs(other), 1e-30)
    same = np.asarray(code).astype(np.int64) == np.asarray(other_code).astype(np.int64)
    return {
        f"{name}_median_rel_diff": float(np.median(diff)),
        f"{name}_p99_rel_diff": float(np.percentile(diff, 99)),
        f"{name}_sum_rel_diff": float(abs(np.sum(tia) / np.sum(other) - 1.0)),
        f"{name}_same_method_fraction": float(np.mean(same)),
    }


def _curve_fit_baseline(curves: np.ndarray, lam_phys: float, sample: int) -> float:
    """Seconds per voxel of a scipy curve_fit bi-exponential fit (the usual per-voxel loop).

    The fastest honest variant: curve_fit's default Levenberg–Marquardt without bounds
    (bounded 'trf' fits are ~100× slower on these curves), a sensible initial guess.
    """
    t_h = TIMES_S / 3600.0
    lam_h = lam_phys * 3600.0

    def model(t: np.ndarray, a1: float, k1: float, a2: float, k2: float) -> np.ndarray:
        return a1 * np.exp(-(lam_h + k1) * t) + a2 * np.exp(-(lam_h + k2) * t)

    start = time.perf_counter()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", optimize.OptimizeWarning)
        for i in range(sample):
            y = curves[:, i].astype(np.float64)
            with contextlib.suppress(RuntimeError):  # a failed fit costs its time too
                optimize.curve_fit(
                    model, t_h, y, p0=(-y.max(), 0.3, 1.5 * y.max(), 0.01), maxfev=1000
                )
    return (time.perf_counter() - start) / sample


def main() -> None:
    """Run the benchmark and print the figures (last line: JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="one repetition, small baseline sample"
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "torch-cpu"))
    parser.add_argument("--sizes", default="128,256", help="cube sizes, comma-separated")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    sample = 50 if args.quick else 300
    backend = select_backend(args.device)
    lam_phys = get_nuclide("Lu-177").decay_constant_per_s
    rng = np.random.default_rng(20250106)
    kernel51 = voxel_kernel(
        nuclide="Lu-177", spacing_mm=SPACING_MM, half_width_voxels=25
    ).values_gy_per_bq_s
    kernel11 = voxel_kernel(
        nuclide="Lu-177", spacing_mm=SPACING_MM, half_width_voxels=5
    ).values_gy_per_bq_s
    torch: Any = None
    sync: Callable[[], None] | None = None
    gpu_name = None
    if backend.uses_torch:
        import torch as _torch

        torch = _torch
        if backend.device == "cuda":
            sync = torch.cuda.synchronize
            gpu_name = torch.cuda.get_device_name(0)
    figures: dict[str, Any] = {
        "backend": backend.label,
        "gpu": gpu_name,
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": None if torch is None else torch.__version__,
        "quick": args.quick,
        "sizes": {},
    }
    print(f"backend {backend.label}  gpu {gpu_name}  cpus {os.cpu_count()}  repeats {repeats}")
    for n in (int(s) for s in args.sizes.split(",")):
        entry: dict[str, Any] = {}
        tia = rng.random((n, n, n), dtype=np.float32) * 1e9
        # Baseline: the peer's call (float64 TIA and kernel, scipy fftconvolve, mode 'same').
        base_s, reference = _timed(
            lambda tia=tia: signal.fftconvolve(tia.astype(np.float64), kernel51, mode="same"),
            repeats,
        )
        if backend.uses_torch:
            resident = torch.from_numpy(tia).to(backend.device)
            ours_s, dose = _timed(lambda r=resident: convolve_kernel(r, kernel51), repeats, sync)
            dose = dose.double().cpu().numpy()
            e2e_s, _ = _timed(
                lambda t=tia: convolve_kernel(t, kernel51, device=args.device), repeats, sync
            )
            ours11_s, _ = _timed(lambda r=resident: convolve_kernel(r, kernel11), repeats, sync)
            entry["dose_end_to_end_with_copies_s"] = e2e_s
            del resident
        else:
            ours_s, dose = _timed(
                lambda t=tia: convolve_kernel(t, kernel51, device=args.device), repeats
            )
            ours11_s, _ = _timed(
                lambda t=tia: convolve_kernel(t, kernel11, device=args.device), repeats
            )
        max_rel = float(np.max(np.abs(dose - reference)) / np.max(reference))
        entry.update(
            {
                "dose_baseline_fftconvolve_f64_k51_s": base_s,
                "dose_prrt_k51_s": ours_s,
                "dose_speedup": base_s / ours_s,
                "dose_max_rel_diff": max_rel,
                "dose_equal_result": max_rel < 1e-4,
                "dose_prrt_k11_s": ours11_s,
            }
        )
        del reference, dose
        print(
            f"{n}^3 dose: baseline {base_s:.4f} s, prrt {ours_s:.4f} s (51^3 kernel), "
            f"x{base_s / ours_s:.1f}, max rel diff {max_rel:.2e}; prrt 11^3 kernel {ours11_s:.4f} s"
        )
        curves, truth = _curves(n**3, rng, lam_phys)
        if backend.uses_torch:
            # Timed: fit_tia_curves on a (4, n³) float32 tensor already on the device,
            # result left there (median of `repeats` calls after one warm-up call, which
            # includes any torch.compile; that first call is reported separately).
            resident = torch.from_numpy(curves).to(backend.device)
            if sync:
                sync()
            start = time.perf_counter()
            fit_tia_curves(resident, times_s=TIMES_S, decay_constant_per_s=lam_phys)
            if sync:
                sync()
            entry["tia_first_call_incl_compile_s"] = time.perf_counter() - start
            tia_s, (fit_t, code_t) = _timed(
                lambda r=resident: fit_tia_curves(
                    r, times_s=TIMES_S, decay_constant_per_s=lam_phys
                ),
                repeats,
                sync,
            )
            fit = fit_t.double().cpu().numpy()
            code = code_t.cpu().numpy()
            # The same arithmetic without torch.compile (eager kernels), for comparison.
            previous = os.environ.get(COMPILE_ENV_VAR)
            os.environ[COMPILE_ENV_VAR] = "0"
            try:
                eager_s, (fit_e, code_e) = _timed(
                    lambda r=resident: fit_tia_curves(
                        r, times_s=TIMES_S, decay_constant_per_s=lam_phys
                    ),
                    1,
                    sync,
                )
            finally:
                if previous is None:
                    del os.environ[COMPILE_ENV_VAR]
                else:
                    os.environ[COMPILE_ENV_VAR] = previous
            entry["tia_eager_no_compile_s"] = eager_s
            entry.update(_agreement("tia_vs_eager", fit, code, fit_e, code_e))
            del resident, fit_t, code_t, fit_e, code_e
            # Each curve is fitted independently: the first curves against the NumPy path.
            m = min(n**3, 1 << 17)
            fit_np, code_np = fit_tia_curves(
                curves[:, :m], times_s=TIMES_S, decay_constant_per_s=lam_phys
            )
            entry.update(_agreement("tia_vs_numpy", fit[:m], code[:m], fit_np, code_np))
            # End to end: NumPy maps in, NumPy TIA map out (validation, host↔device copies).
            e2e_s, _ = _timed(
                lambda c=curves, n=n: fit_voxel_tia(
                    c.reshape(4, n, n, n),
                    times_s=TIMES_S,
                    decay_constant_per_s=lam_phys,
                    device=args.device,
                ),
                1,
                sync,
            )
            entry["tia_end_to_end_with_copies_s"] = e2e_s
            print(
                f"{n}^3 voxel TIA on {backend.label}: resident {tia_s:.4f} s, first call "
                f"{entry['tia_first_call_incl_compile_s']:.2f} s, eager {eager_s:.4f} s, "
                f"end to end {e2e_s:.3f} s; vs eager p99 |rel diff| "
                f"{entry['tia_vs_eager_p99_rel_diff']:.1e}, vs NumPy "
                f"{entry['tia_vs_numpy_p99_rel_diff']:.1e}"
            )
        else:
            tia_s, result = _timed(
                lambda c=curves, n=n: fit_voxel_tia(
                    c.reshape(4, n, n, n),
                    times_s=TIMES_S,
                    decay_constant_per_s=lam_phys,
                    device=args.device,
                ),
                repeats,
            )
            fit = result.tia_bq_s.ravel()
        error = np.abs(fit / truth - 1.0)
        per_voxel_s = _curve_fit_baseline(curves, lam_phys, sample)
        baseline_tia_s = per_voxel_s * n**3
        entry.update(
            {
                "tia_prrt_s": tia_s,
                "tia_baseline_curve_fit_extrapolated_s": baseline_tia_s,
                "tia_baseline_sample_voxels": sample,
                "tia_speedup": baseline_tia_s / tia_s,
                "tia_median_rel_error": float(np.median(error)),
                "tia_p90_rel_error": float(np.percentile(error, 90)),
            }
        )
        print(
            f"{n}^3 voxel TIA (4 time points): prrt {tia_s:.4f} s, curve_fit loop "
            f"{baseline_tia_s:.1f} s (extrapolated from {sample} voxels), x{baseline_tia_s / tia_s:.0f}; "
            f"median |error| {np.median(error):.2e} (5 % noise)"
        )
        figures["sizes"][str(n)] = entry
        del curves, truth, fit, tia
    sizes = figures["sizes"]
    targets: dict[str, Any] = {}
    if "128" in sizes and not backend.uses_torch:
        targets["cpu_dose_speedup_ge_3"] = all(
            e["dose_speedup"] >= 3.0 and e["dose_equal_result"] for e in sizes.values()
        )
        targets["cpu_tia_128_le_5_s"] = sizes["128"]["tia_prrt_s"] <= 5.0
    if backend.device == "cuda":
        if "256" in sizes:
            targets["gpu_dose_256_le_5_ms"] = sizes["256"]["dose_prrt_k51_s"] <= 0.005
            targets["gpu_dose_256_k11_le_5_ms"] = sizes["256"]["dose_prrt_k11_s"] <= 0.005
        if "128" in sizes:
            targets["gpu_tia_128_le_100_ms"] = sizes["128"]["tia_prrt_s"] <= 0.1
        if "256" in sizes:
            targets["gpu_tia_256_le_100_ms"] = sizes["256"]["tia_prrt_s"] <= 0.1
    figures["torch_compile_env"] = os.environ.get(COMPILE_ENV_VAR, "auto")
    figures["torch_compile_failures"] = list(compile_failures())
    figures["targets_met"] = targets
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
