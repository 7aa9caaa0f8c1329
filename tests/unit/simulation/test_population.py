"""Virtual-patient population: calibration to the published doses per activity (dosimetry-reference.md §7)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.physics import get_nuclide
from prrt.simulation.population import (
    REGIONS,
    SourcedValue,
    draw_patients,
    load_population_model,
    population_model_names,
)

# Santoro et al., EJNMMI Res 2018 (dosimetry-reference.md §7): mean ± SD in Gy/GBq.
SANTORO_2018 = {
    "kidneys": (0.43, 0.13),
    "red_marrow": (0.04, 0.02),
    "liver": (0.54, 0.58),
    "spleen": (0.61, 0.13),
}
# Clin Nucl Med 2013 (dosimetry-reference.md §7): NET 3.41 ± 0.68 Gy/GBq.
TUMOUR_2013 = (3.41, 0.68)


def test_models_are_packaged_with_sources() -> None:
    assert population_model_names() == ("LU177_DOTATATE_SANTORO_2018", "LU177_DOTATATE_LABEL")
    for name in population_model_names():
        model = load_population_model(name)
        assert model.regions == REGIONS
        for organ in model.organs:
            for key, value in organ.to_dict().items():
                if isinstance(value, dict) and "tag" in value:
                    assert value["source"].strip(), (name, organ.region, key)
                    assert value["tag"] in "VCLRP"


def test_kidney_median_uptake_analytic() -> None:
    # u = D_median·ln2/(T_med·S): D_median = 0.43/√(1 + (0.13/0.43)²) Gy/GBq, T = 50 h,
    # S(kidneys←kidneys) ICRP-89 AM = 7.76e-5 mGy/(MBq·s) = 7.76e-14 Gy/(Bq·s) (§2.2).
    kidneys = load_population_model().organ("kidneys")
    median = 0.43e-9 / math.sqrt(1.0 + (0.13 / 0.43) ** 2)
    assert kidneys.dose_per_activity_median_gy_per_bq == pytest.approx(median, rel=1e-12)
    assert kidneys.uptake_median_fraction == pytest.approx(
        median * math.log(2.0) / (50 * 3600.0 * 7.76e-14), rel=1e-9
    )
    assert kidneys.reference_mass_kg.value == 0.31  # ICRP-89 AM, §2.2
    # σ_u² = ln(1 + CV²) − σ_T² − σ_m²
    expected = math.log1p((0.13 / 0.43) ** 2) - 0.1014**2 - 0.15**2
    assert kidneys.uptake_log_sd == pytest.approx(math.sqrt(expected), rel=1e-12)


@pytest.mark.parametrize("region", [*SANTORO_2018, "tumour"])
def test_dose_per_activity_reproduces_publication(region: str) -> None:
    # 400 000 patients: the sample mean and SD of D/A match the published mean ± SD
    # (log-normal by construction; sampling error of the mean < 0.3 %, of the SD < 1 % here
    # except the heavy-tailed liver, CV 107 %).
    model = load_population_model()
    p = draw_patients(model, 400_000, max_cycles=1, rng=np.random.default_rng(20260101))
    k = p.region_index(region)
    mean, sd = SANTORO_2018.get(region, TUMOUR_2013)
    x = p.dose_per_activity_gy_per_bq[:, k] * 1e9
    rel = 0.04 if region == "liver" else 0.01
    assert x.mean() == pytest.approx(mean, rel=rel)
    assert x.std() == pytest.approx(sd, rel=2 * rel)


def test_per_cycle_factors_have_mean_one_and_the_stated_spreads() -> None:
    model = load_population_model()
    p = draw_patients(model, 100_000, max_cycles=8, rng=np.random.default_rng(5))
    ratio = p.true_dose_per_activity_gy_per_bq / p.dose_per_activity_gy_per_bq[:, None, :]
    assert ratio.mean() == pytest.approx(1.0, abs=2e-3)
    assert ratio.std() == pytest.approx(0.10, rel=0.02)  # intercycle CV [P]
    error = p.measured_dose_per_activity_gy_per_bq / p.true_dose_per_activity_gy_per_bq
    assert error.mean() == pytest.approx(1.0, abs=2e-3)
    assert error.std() == pytest.approx(0.13, rel=0.02)  # Staanum 2021, §4.2


def test_effective_half_life_never_exceeds_the_physical_half_life() -> None:
    model = load_population_model()
    wide = replace(
        model,
        organs=tuple(
            replace(
                o,
                effective_half_life_median_s=SourcedValue(158 * 3600.0, "test", "P"),
                effective_half_life_log_sd=SourcedValue(0.05, "test", "P"),
                dose_per_activity_sd_gy_per_bq=SourcedValue(
                    o.dose_per_activity_mean_gy_per_bq.value, "test", "P"
                ),
            )
            for o in model.organs
        ),
    )
    p = draw_patients(wide, 20_000, max_cycles=1, rng=np.random.default_rng(0))
    t_phys = get_nuclide("Lu-177").half_life_s  # 6.647 d
    assert p.effective_half_life_s.max() == t_phys
    assert (p.effective_half_life_s == t_phys).mean() > 0.3


def test_seeded_draws_are_reproducible() -> None:
    model = load_population_model()
    a = draw_patients(model, 1000, max_cycles=8, rng=np.random.default_rng(9))
    b = draw_patients(model, 1000, max_cycles=8, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(
        a.measured_dose_per_activity_gy_per_bq, b.measured_dose_per_activity_gy_per_bq
    )
    np.testing.assert_array_equal(a.renal_risk_factors, b.renal_risk_factors)


def test_spreads_larger_than_the_published_dose_spread_are_refused() -> None:
    kidneys = load_population_model().organ("kidneys")
    with pytest.raises(InvalidInputError, match="mass_log_sd"):
        replace(kidneys, mass_log_sd=SourcedValue(0.5, "test", "P"))


def test_bad_inputs_are_refused() -> None:
    model = load_population_model()
    with pytest.raises(InvalidInputError, match="population"):
        load_population_model("NO_SUCH_MODEL")
    with pytest.raises(InvalidInputError, match="n"):
        draw_patients(model, 0, max_cycles=8, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match="max_cycles"):
        draw_patients(model, 3, max_cycles=0, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match="tag"):
        SourcedValue(1.0, "x", "Q")
    with pytest.raises(InvalidInputError, match="renal_risk_factor_fraction"):
        replace(model, renal_risk_factor_fraction=SourcedValue(1.5, "test", "P"))
    with pytest.raises(InvalidInputError, match="organs"):
        replace(model, organs=model.organs[:-1])
