"""Next-cycle decisions on the course histories of clinical-rules.md §4.4, with the dose limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from prrt.clinical.dose_modification import (
    Administration,
    CourseBaseline,
    CourseHistory,
    CycleAssessment,
    DmtCategory,
    Episode,
    LabPanel,
)
from prrt.dosimetry.course import CycleDosimetry, CycleOrganDose
from prrt.dosimetry.radiobiology import g_factor_mono_exponential, radiobiology_parameters
from prrt.errors import InvalidInputError
from prrt.planning import Action, decide_next_cycle, get_regimen

STANDARD = get_regimen("LUTATHERA_STANDARD")
GUIDED = get_regimen("DOSIMETRY_GUIDED")
OK = LabPanel(
    haemoglobin_g_per_l=130.0,
    platelets_10e9_per_l=210.0,
    neutrophils_10e9_per_l=3.5,
    creatinine_umol_per_l=75.0,
    bilirubin_umol_per_l=9.0,
    bilirubin_uln_umol_per_l=21.0,
    albumin_g_per_l=41.0,
    prothrombin_percent=95.0,
    ast_u_per_l=25.0,
    ast_uln_u_per_l=40.0,
    alt_u_per_l=22.0,
    alt_uln_u_per_l=40.0,
)
LOW_PLT = replace(OK, platelets_10e9_per_l=68.0)
BASE = CourseBaseline("female", OK, 68.0, 64.0)
D1 = date(2026, 1, 5)


def history(n, activities=None, episodes=()):
    acts = activities or [7.4e9] * n
    admins = tuple(Administration(i + 1, D1 + timedelta(weeks=8 * i), acts[i]) for i in range(n))
    return CourseHistory(BASE, admins, tuple(episodes))


def visit(h, *, weeks=8, labs=OK, worst=None):
    last = h.last_administration.administration_date
    return CycleAssessment(
        last + timedelta(weeks=weeks), labs, worst or labs, 68.0, 64.0, (), False, False
    )


def test_cyc5_full():
    h = history(1)
    d = decide_next_cycle(STANDARD, h, visit(h))
    assert (d.action, d.activity_bq) == (Action.GIVE_FULL, 7.4e9)
    assert d.earliest_date == D1 + timedelta(days=49)  # 7 weeks after (8 ± 1)
    assert "DOS-NOT-AVAILABLE" in d.reason_codes


def test_cyc3_recovered_nadir_reduces_to_3_7():
    h = history(1)
    d = decide_next_cycle(STANDARD, h, visit(h, worst=LOW_PLT))
    assert (d.action, d.activity_bq) == (Action.GIVE_REDUCED, 3.7e9)
    assert "CYC-3-REDUCE-THROMBOCYTOPENIA" in d.reason_codes


def test_cyc2_active_toxicity_withholds_until_16_weeks():
    h = history(1)
    d = decide_next_cycle(STANDARD, h, visit(h, labs=LOW_PLT))
    assert d.action is Action.WITHHOLD
    assert d.withhold_until == D1 + timedelta(weeks=16)
    assert d.recheck_on == D1 + timedelta(weeks=10)
    assert d.activity_bq is None
    assert "CYC-2-WITHHOLD-THROMBOCYTOPENIA" in d.reason_codes


def test_cyc1_unresolved_at_16_weeks_stops():
    h = history(1)
    d = decide_next_cycle(STANDARD, h, visit(h, weeks=16, labs=LOW_PLT))
    assert d.action is Action.STOP
    assert "CYC-1-UNRESOLVED-AT-16W-THROMBOCYTOPENIA" in d.reason_codes


def test_cyc1_recurrent_stops_and_other_category_reduces():
    h = history(2, [7.4e9, 3.7e9], [Episode(DmtCategory.THROMBOCYTOPENIA, 1)])
    assert decide_next_cycle(STANDARD, h, visit(h, worst=LOW_PLT)).action is Action.STOP
    renal = replace(OK, creatinine_umol_per_l=110.0)  # ≥ 1.40 × baseline 75
    d = decide_next_cycle(STANDARD, h, visit(h, worst=renal))
    assert d.action is Action.GIVE_REDUCED
    assert "CYC-3-REDUCE-RENAL" in d.reason_codes


def test_cyc4_reescalation_and_cyc0_course_complete():
    h = history(2, [7.4e9, 3.7e9], [Episode(DmtCategory.THROMBOCYTOPENIA, 1)])
    d = decide_next_cycle(STANDARD, h, visit(h))
    assert (d.action, d.activity_bq) == (Action.GIVE_FULL, 7.4e9)
    assert "CYC-4-REESCALATE" in d.reason_codes
    h4 = history(4)
    assert decide_next_cycle(STANDARD, h4, visit(h4)).action is Action.COURSE_COMPLETE


KIDNEY = radiobiology_parameters("kidneys")
# kidney T_eff 50 h (RB-01 of dosimetry-reference.md §7), repair half-time 2.8 h
G_KIDNEY = g_factor_mono_exponential(
    effective_half_life_s=50 * 3600.0, repair_half_time_s=KIDNEY.repair_half_time_s
)


def kidney_cycles(n, gy=4.81, marrow=None, *, kinetics=True, g_factor=G_KIDNEY):
    out = []
    for i in range(1, n + 1):
        g = g_factor if kinetics else None
        ab = KIDNEY.alpha_beta_gy if kinetics else None
        organs = {"kidneys": CycleOrganDose("kidneys", gy, g_factor=g, alpha_beta_gy=ab)}
        if marrow is not None:
            organs["red_marrow"] = CycleOrganDose("red_marrow", marrow)
        out.append(CycleDosimetry(i, 7.4e9, organs))
    return out


def test_dosimetry_guided_final_partial_cycle_rb07():
    # RB-07/08: 4 × 4.81 Gy = 19.24 Gy; 3.76 Gy left → 5.78 GBq (dosimetry-reference.md §7)
    h = history(4)
    d = decide_next_cycle(
        GUIDED, h, visit(h), dosimetry=kidney_cycles(4, marrow=0.1), renal_risk_factors=False
    )
    assert d.action is Action.GIVE_REDUCED
    assert d.activity_bq == pytest.approx(5.78e9, rel=5e-3)
    assert any(c.startswith("DOS-PARTIAL-kidneys") for c in d.reason_codes)


def test_dosimetry_limit_reached_or_exceeded_stops():
    h = history(4)
    # 4 × 5.6 = 22.4 Gy: 0.6 Gy left = 0.79 GBq < 25 % of 7.4 GBq → stop
    d = decide_next_cycle(
        GUIDED, h, visit(h), dosimetry=kidney_cycles(4, 5.6, 0.1), renal_risk_factors=False
    )
    assert d.action is Action.STOP
    assert any(c.startswith("DOS-LIMIT-REACHED") for c in d.reason_codes)
    h3 = history(3)
    d = decide_next_cycle(
        STANDARD, h3, visit(h3), dosimetry=kidney_cycles(3, 8.0, 0.1), renal_risk_factors=False
    )
    assert d.action is Action.STOP
    assert "DOS-LIMIT-EXCEEDED-kidneys.absorbed_dose" in d.reason_codes


def test_marrow_limit_binds():
    h = history(3)
    d = decide_next_cycle(
        GUIDED, h, visit(h), dosimetry=kidney_cycles(3, 2.0, 0.6), renal_risk_factors=False
    )
    # marrow 1.8 Gy of 2 Gy: 0.2 Gy left = 2.47 GBq
    assert d.action is Action.GIVE_REDUCED
    assert d.activity_bq == pytest.approx(0.2 / 0.6 * 7.4e9, rel=1e-6)


def test_dosimetry_guided_needs_doses_of_every_cycle():
    h = history(2)
    d = decide_next_cycle(GUIDED, h, visit(h), dosimetry=kidney_cycles(1, marrow=0.1))
    assert d.action is Action.INDETERMINATE
    assert d.activity_bq is None
    assert "DOS-DATA-MISSING" in d.reason_codes
    # no kinetics for the kidney BED: the BED limit cannot be checked, so no dose is proposed
    d = decide_next_cycle(
        GUIDED,
        h,
        visit(h),
        dosimetry=kidney_cycles(2, marrow=0.1, kinetics=False),
        renal_risk_factors=False,
    )
    assert d.action is Action.INDETERMINATE
    assert "DOS-INDETERMINATE-kidneys.bed.no_risk_factors" in d.reason_codes
    # unknown renal risk factors with BED between 28 and 40 Gy: indeterminate, never a dose
    # fast kidney clearance (T_eff 5 h, G = 0.2/(0.2 + 1/2.8) = 0.359): 2 × 8 Gy → BED 33.7 Gy
    g_fast = (1 / 5) / (1 / 5 + 1 / 2.8)
    d = decide_next_cycle(
        GUIDED, h, visit(h), dosimetry=kidney_cycles(2, 8.0, 0.1, g_factor=g_fast)
    )
    assert d.action is Action.INDETERMINATE
    assert "DOS-INDETERMINATE-kidneys.bed.risk_factors" in d.reason_codes


def test_label_stop_wins_over_dosimetry():
    h = history(1)
    v = replace(visit(h), pregnant=True)
    d = decide_next_cycle(
        GUIDED, h, v, dosimetry=kidney_cycles(1, marrow=0.1), renal_risk_factors=False
    )
    assert d.action is Action.STOP
    assert "CYC-1-PREGNANCY" in d.reason_codes


def test_dosimetry_must_match_the_course():
    h = history(1)
    with pytest.raises(InvalidInputError, match=r"dosimetry\[0\].cycle_number"):
        decide_next_cycle(STANDARD, h, visit(h), dosimetry=kidney_cycles(2)[1:])
    with pytest.raises(InvalidInputError, match="regimen"):
        decide_next_cycle(get_regimen("PB212_DOTAMTATE"), h, visit(h))
