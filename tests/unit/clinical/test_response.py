"""Unit tests of prrt.clinical.response: RECIST 1.1 (clinical-rules.md §7.1) and PERCIST 1.0 (§7.2).

Thresholds are tested just below, at and just above; names carry the rule id.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from prrt.clinical.response import (
    BaselineLesion,
    LesionClass,
    Modality,
    NewLesions,
    NonTargetObservation,
    NonTargetState,
    PercistResponse,
    RecistResponse,
    TargetMeasurement,
    TargetState,
    TimePoint,
    TimePointResponse,
    assess_time_point,
    assess_time_points,
    best_overall_response,
    classify_lesion,
    new_lesion_from_fdg_pet,
    percist_consistency,
    percist_measurability_threshold,
    percist_response,
    select_baseline,
)
from prrt.errors import InvalidInputError

R = RecistResponse
START = date(2026, 1, 5)


def day(n):
    return START + timedelta(days=n)


def liver(lesion_id, ld, **kw):
    return BaselineLesion(lesion_id, kw.pop("organ", "liver"), longest_diameter_mm=ld, **kw)


def node(lesion_id, sa, organ="abdomen"):
    return BaselineLesion(lesion_id, organ, short_axis_mm=sa, is_lymph_node=True)


def measured(**sizes):
    return tuple(TargetMeasurement(k, size_mm=v) for k, v in sizes.items())


# ------------------------------------------------------------------ REC-MEAS


@pytest.mark.parametrize(
    ("lesion", "expected"),
    [
        (liver("a", 9.9), LesionClass.NON_MEASURABLE),  # CT, slice <= 5 mm: >= 10 mm
        (liver("a", 10.0), LesionClass.MEASURABLE),
        (liver("a", 10.1), LesionClass.MEASURABLE),
        (liver("a", 15.9, slice_thickness_mm=8.0), LesionClass.NON_MEASURABLE),  # 2 x 8 = 16 mm
        (liver("a", 16.0, slice_thickness_mm=8.0), LesionClass.MEASURABLE),
        (liver("a", 16.1, slice_thickness_mm=8.0), LesionClass.MEASURABLE),
        (liver("a", 10.0, slice_thickness_mm=5.0), LesionClass.MEASURABLE),
        (liver("a", 19.9, modality=Modality.CHEST_XRAY, organ="lung"), LesionClass.NON_MEASURABLE),
        (liver("a", 20.0, modality=Modality.CHEST_XRAY, organ="lung"), LesionClass.MEASURABLE),
        (liver("a", 20.1, modality=Modality.CHEST_XRAY, organ="lung"), LesionClass.MEASURABLE),
        (liver("a", 9.9, modality=Modality.CALLIPER, organ="skin"), LesionClass.NON_MEASURABLE),
        (liver("a", 10.0, modality=Modality.CALLIPER, organ="skin"), LesionClass.MEASURABLE),
        (node("n", 9.9), LesionClass.NORMAL_NODE),
        (node("n", 10.0), LesionClass.NON_MEASURABLE),
        (node("n", 14.9), LesionClass.NON_MEASURABLE),
        (node("n", 15.0), LesionClass.MEASURABLE),
        (node("n", 15.1), LesionClass.MEASURABLE),
        (
            BaselineLesion("x", "peritoneum", non_measurable_reason="ascites"),
            LesionClass.NON_MEASURABLE,
        ),
        (
            liver("b", 30.0, non_measurable_reason="previously embolised"),
            LesionClass.NON_MEASURABLE,
        ),
    ],
)
def test_rec_meas_thresholds(lesion, expected):
    assert classify_lesion(lesion)[0] is expected


# ------------------------------------------------------------------ REC-TARGET


def test_rec_target_at_most_5_and_2_per_organ_nodes_one_organ():
    lesions = [
        liver("L1", 50.0),
        liver("L2", 45.0),
        liver("L3", 40.0),  # third liver lesion -> non-target
        node("N1", 30.0, "mesentery"),
        node("N2", 25.0, "neck"),
        node("N3", 20.0, "axilla"),  # third node (nodes are one organ) -> non-target
        liver("P1", 18.0, organ="lung"),
        liver("B1", 12.0, organ="bone"),  # sixth measurable by size -> non-target
        node("N4", 12.0, "pelvis"),  # pathological non-measurable -> non-target
        node("N5", 8.0, "pelvis"),  # normal
    ]
    b = select_baseline(lesions)
    assert [t.lesion_id for t in b.targets] == ["L1", "L2", "N1", "N2", "P1"]
    assert {n.lesion_id for n in b.non_targets} == {"L3", "N3", "B1", "N4"}
    assert b.normal_nodes == ("N5",)
    # REC-TARGET: longest diameters + node short axes
    assert b.sum_mm == 50 + 45 + 30 + 25 + 18


def test_rec_target_explicit_choice_is_checked():
    lesions = [liver("L1", 50.0), liver("L2", 45.0), liver("L3", 40.0), node("N4", 12.0)]
    b = select_baseline(lesions, target_ids=["L1", "L3"])
    assert b.sum_mm == 90.0
    with pytest.raises(InvalidInputError, match="per organ"):
        select_baseline(lesions, target_ids=["L1", "L2", "L3"])
    with pytest.raises(InvalidInputError, match="measurable"):
        select_baseline(lesions, target_ids=["N4"])
    with pytest.raises(InvalidInputError, match="measurable"):
        select_baseline(lesions, target_ids=["X9"])


def test_baseline_bad_input_refused():
    with pytest.raises(InvalidInputError, match="lesions"):
        select_baseline([])
    with pytest.raises(InvalidInputError, match="unique"):
        select_baseline([liver("L1", 20.0), liver("L1", 30.0)])
    with pytest.raises(InvalidInputError, match="short_axis_mm"):
        BaselineLesion("N", "neck", is_lymph_node=True)
    with pytest.raises(InvalidInputError, match="longest_diameter_mm"):
        BaselineLesion("L", "liver")
    with pytest.raises(InvalidInputError, match="longest_diameter_mm"):
        BaselineLesion("L", "liver", longest_diameter_mm=-3.0)
    with pytest.raises(InvalidInputError, match="modality"):
        BaselineLesion("L", "liver", longest_diameter_mm=30.0, modality="ultrasound")  # type: ignore[arg-type]


# ------------------------------------------------------------------ target response


BASE100 = select_baseline([liver("L1", 60.0), liver("L2", 40.0, organ="lung")])


@pytest.mark.parametrize(
    ("l1", "expected"),
    [(30.1, R.SD), (30.0, R.PR), (29.9, R.PR)],  # sum 70.1 / 70.0 / 69.9 vs 0.7 x 100
)
def test_rec_pr_30_percent_fall_from_baseline(l1, expected):
    r = assess_time_point(BASE100, TimePoint(day(56), measured(L1=l1, L2=40.0)))
    assert r.target_response is expected
    assert r.overall is expected


@pytest.mark.parametrize(
    ("sum_mm", "expected"),
    [(59.9, R.SD), (60.0, R.PD), (60.1, R.PD)],  # nadir 50: 1.2 x 50 = 60 (and +10 mm >= 5)
)
def test_rec_pd_20_percent_over_nadir(sum_mm, expected):
    b = select_baseline([liver("L1", 50.0)])
    r = assess_time_point(b, TimePoint(day(56), measured(L1=sum_mm)))
    assert r.target_response is expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [(24.9, R.SD), (25.0, R.PD), (25.1, R.PD)],  # nadir 20: +20 % at 24, but +5 mm needs 25
)
def test_rec_pd_5_mm_absolute_rule(size, expected):
    b = select_baseline([liver("L1", 20.0)])
    r = assess_time_point(b, TimePoint(day(56), measured(L1=size)))
    assert r.target_response is expected
    if size == 24.9:
        assert r.change_from_nadir_percent == pytest.approx(24.5)  # >= 20 % yet not PD


def test_rec_pd_is_measured_from_the_nadir_not_the_baseline():
    tps = [
        TimePoint(day(84), measured(L1=36.0, L2=24.0)),  # sum 60 (PR), new nadir
        TimePoint(
            day(168), measured(L1=44.0, L2=28.0)
        ),  # sum 72 = 1.2 x 60, +12 mm: PD although < baseline
    ]
    r = assess_time_points(BASE100, tps)
    assert [x.overall for x in r] == [R.PR, R.PD]
    assert r[1].nadir_mm == 60.0
    assert r[1].change_from_baseline_percent == pytest.approx(-28.0)


@pytest.mark.parametrize(("node_sa", "expected"), [(9.9, R.CR), (10.0, R.PR), (10.1, R.PR)])
def test_rec_cr_requires_nodes_below_10_mm(node_sa, expected):
    b = select_baseline([liver("L1", 30.0), node("N1", 20.0)])
    tp = TimePoint(
        day(84),
        (
            TargetMeasurement("L1", TargetState.DISAPPEARED),
            TargetMeasurement("N1", size_mm=node_sa),
        ),
    )
    r = assess_time_point(b, tp)
    assert r.target_response is expected
    if expected is R.CR:
        assert r.sum_mm == pytest.approx(9.9)  # CR with a sum > 0


def test_too_small_to_measure_counts_5_mm_and_is_not_cr():
    b = select_baseline([liver("L1", 20.0)])
    r = assess_time_point(
        b, TimePoint(day(84), (TargetMeasurement("L1", TargetState.TOO_SMALL_TO_MEASURE),))
    )
    assert r.sum_mm == 5.0
    assert r.target_response is R.PR


def test_no_pd_from_node_growth_within_normal_size():
    b = select_baseline([node("N1", 20.0)])
    tps = [
        TimePoint(day(84), measured(N1=4.0)),
        TimePoint(day(168), measured(N1=9.0)),
    ]  # +125 %, +5 mm
    assert [x.overall for x in assess_time_points(b, tps)] == [R.CR, R.CR]


def test_reappearance_after_complete_response_is_pd():
    b = select_baseline([liver("L1", 30.0)])
    tps = [
        TimePoint(day(84), (TargetMeasurement("L1", TargetState.DISAPPEARED),)),
        TimePoint(day(140), measured(L1=6.0)),
    ]
    r = assess_time_points(b, tps)
    assert [x.overall for x in r] == [R.CR, R.PD]
    assert "REC-PD-REAPPEARANCE" in r[1].reason_codes


def test_rec_ne_target_not_evaluated_unless_assessed_ones_prove_pd():
    tp = TimePoint(day(84), measured(L1=50.0))  # L2 missing
    assert assess_time_point(BASE100, tp).overall is R.NE
    tp = TimePoint(
        day(84), (*measured(L1=125.0), TargetMeasurement("L2", TargetState.NOT_EVALUATED))
    )
    r = assess_time_point(BASE100, tp)
    assert r.overall is R.PD
    assert r.sum_mm is None


# ------------------------------------------------------------------ non-target, new lesions, overall table


WITH_NT = select_baseline(
    [liver("L1", 40.0), BaselineLesion("B1", "bone", non_measurable_reason="blastic")]
)


@pytest.mark.parametrize(
    ("target_size", "nt_state", "markers", "new", "expected"),
    [
        (0.0, NonTargetState.ABSENT, None, NewLesions.NONE, R.CR),  # CR / CR / no -> CR
        (0.0, NonTargetState.PRESENT, None, NewLesions.NONE, R.PR),  # CR / non-CR/non-PD -> PR
        (
            0.0,
            NonTargetState.NOT_EVALUATED,
            None,
            NewLesions.NONE,
            R.PR,
        ),  # CR / not evaluated -> PR
        (
            0.0,
            NonTargetState.ABSENT,
            False,
            NewLesions.NONE,
            R.PR,
        ),  # markers above normal: no NT CR
        (20.0, NonTargetState.PRESENT, None, NewLesions.NONE, R.PR),  # PR / non-PD -> PR
        (20.0, NonTargetState.NOT_EVALUATED, None, NewLesions.NONE, R.PR),
        (35.0, NonTargetState.PRESENT, None, NewLesions.NONE, R.SD),
        (
            35.0,
            NonTargetState.UNEQUIVOCAL_PROGRESSION,
            None,
            NewLesions.NONE,
            R.PD,
        ),  # any / PD -> PD
        (20.0, NonTargetState.UNEQUIVOCAL_PROGRESSION, None, NewLesions.NONE, R.PD),
        (0.0, NonTargetState.ABSENT, None, NewLesions.UNEQUIVOCAL, R.PD),  # any / any / new -> PD
        (35.0, NonTargetState.PRESENT, None, NewLesions.EQUIVOCAL, R.SD),  # equivocal: not PD yet
    ],
)
def test_rec_overall_time_point_table(target_size, nt_state, markers, new, expected):
    target = (
        TargetMeasurement("L1", TargetState.DISAPPEARED)
        if target_size == 0
        else TargetMeasurement("L1", size_mm=target_size)
    )
    tp = TimePoint(day(84), (target,), (NonTargetObservation("B1", nt_state),), new, markers)
    assert assess_time_point(WITH_NT, tp).overall is expected


def test_rec_overall_target_not_evaluated_with_non_pd_is_ne():
    tp = TimePoint(day(84), (), (NonTargetObservation("B1", NonTargetState.PRESENT),))
    assert assess_time_point(WITH_NT, tp).overall is R.NE


NT_ONLY = select_baseline(
    [BaselineLesion("P1", "peritoneum", non_measurable_reason="carcinomatosis"), node("N1", 12.0)]
)


@pytest.mark.parametrize(
    ("observations", "new", "expected"),
    [
        (
            (("P1", NonTargetState.ABSENT, None), ("N1", NonTargetState.PRESENT, 9.0)),
            NewLesions.NONE,
            R.CR,
        ),
        (
            (("P1", NonTargetState.ABSENT, None), ("N1", NonTargetState.PRESENT, 10.0)),
            NewLesions.NONE,
            R.NON_CR_NON_PD,
        ),
        (
            (("P1", NonTargetState.PRESENT, None), ("N1", NonTargetState.ABSENT, None)),
            NewLesions.NONE,
            R.NON_CR_NON_PD,
        ),
        ((("P1", NonTargetState.PRESENT, None),), NewLesions.NONE, R.NE),  # N1 not listed
        (
            (
                ("P1", NonTargetState.UNEQUIVOCAL_PROGRESSION, None),
                ("N1", NonTargetState.PRESENT, 12.0),
            ),
            NewLesions.NONE,
            R.PD,
        ),
        (
            (("P1", NonTargetState.PRESENT, None), ("N1", NonTargetState.PRESENT, 12.0)),
            NewLesions.UNEQUIVOCAL,
            R.PD,
        ),
    ],
)
def test_rec_overall_non_target_only_disease(observations, new, expected):
    obs = tuple(NonTargetObservation(i, s, sa) for i, s, sa in observations)
    r = assess_time_point(NT_ONLY, TimePoint(day(84), (), obs, new))
    assert r.overall is expected
    assert r.target_response is None


def test_radiologist_non_target_call_overrides_derivation():
    tp = TimePoint(day(84), measured(L1=35.0), (), non_target_response=R.PD)
    assert assess_time_point(WITH_NT, tp).overall is R.PD


def test_rec_new_equivocal_then_confirmed_dates_pd_from_first_scan():
    b = select_baseline([liver("L1", 40.0)])
    tps = [
        TimePoint(day(84), measured(L1=38.0), new_lesions=NewLesions.EQUIVOCAL),
        TimePoint(
            day(140),
            measured(L1=38.0),
            new_lesions=NewLesions.UNEQUIVOCAL,
            new_lesion_first_seen=day(84),
        ),
    ]
    r = assess_time_points(b, tps)
    assert [x.overall for x in r] == [R.PD, R.PD]
    assert "REC-NEW-CONFIRMED" in r[0].reason_codes
    assert best_overall_response(r, treatment_start=START).progression_date == day(84)


@pytest.mark.parametrize(
    ("baseline_negative", "matches_ct", "expected"),
    [
        (True, None, NewLesions.UNEQUIVOCAL),
        (None, True, NewLesions.UNEQUIVOCAL),
        (None, False, NewLesions.EQUIVOCAL),
    ],
)
def test_rec_new_fdg_pet_rule(baseline_negative, matches_ct, expected):
    assert (
        new_lesion_from_fdg_pet(
            baseline_fdg_pet_negative=baseline_negative, matches_new_ct_lesion=matches_ct
        )
        is expected
    )


def test_time_point_bad_input_refused():
    with pytest.raises(InvalidInputError, match="lesion_id"):
        assess_time_point(BASE100, TimePoint(day(84), measured(X9=10.0)))
    with pytest.raises(InvalidInputError, match="size_mm"):
        TargetMeasurement("L1")
    with pytest.raises(InvalidInputError, match="assessment_date"):
        TimePoint(datetime(2026, 3, 1, 10, 0))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="increasing"):
        assess_time_points(
            BASE100,
            [
                TimePoint(day(84), measured(L1=60.0, L2=40.0)),
                TimePoint(day(56), measured(L1=60.0, L2=40.0)),
            ],
        )
    with pytest.raises(InvalidInputError, match="non_target_response"):
        TimePoint(day(84), non_target_response=R.PR)


# ------------------------------------------------------------------ REC-BOR


def tpr(n, overall):
    return TimePointResponse(
        day(n), overall, overall, None, NewLesions.NONE, None, None, None, None, None, (), ()
    )


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        # §7.1 combination table, confirmation required; second scan >= 4 weeks after the first.
        ([(56, R.CR), (112, R.CR)], R.CR),
        ([(56, R.CR), (112, R.PD)], R.SD),  # CR/PR after a true CR is PD: SD if minimum met
        ([(35, R.CR), (70, R.PD)], R.PD),  # ... else PD (first scan at 5 weeks < 6-week SD minimum)
        ([(56, R.CR), (112, R.NE)], R.SD),
        ([(35, R.CR), (70, R.NE)], R.NE),
        ([(56, R.PR), (112, R.CR)], R.PR),
        ([(56, R.PR), (112, R.PR)], R.PR),
        ([(56, R.PR), (112, R.SD)], R.SD),
        ([(56, R.PR), (112, R.PD)], R.SD),
        ([(35, R.PR), (70, R.PD)], R.PD),
        ([(56, R.PR), (112, R.NE)], R.SD),
        ([(35, R.PR), (70, R.NE)], R.NE),
        ([(56, R.NE), (112, R.NE)], R.NE),
    ],
)
def test_rec_bor_combination_table_with_confirmation(sequence, expected):
    bor = best_overall_response(
        [tpr(n, r) for n, r in sequence], treatment_start=START, confirmation_required=True
    )
    assert bor.response is expected


def test_rec_bor_without_confirmation_takes_the_best_response():
    bor = best_overall_response([tpr(56, R.PR), tpr(112, R.PD)], treatment_start=START)
    assert bor.response is R.PR
    assert bor.confirmed is None
    assert bor.progression_date == day(112)


@pytest.mark.parametrize(
    ("second", "confirmed"), [(56 + 27, False), (56 + 28, True), (56 + 29, True)]
)
def test_rec_bor_confirmation_at_least_4_weeks(second, confirmed):
    bor = best_overall_response(
        [tpr(56, R.PR), tpr(second, R.PR)], treatment_start=START, confirmation_required=True
    )
    assert bor.response is (R.PR if confirmed else R.SD)


@pytest.mark.parametrize(("first", "expected"), [(41, R.PD), (42, R.SD), (43, R.SD)])
def test_rec_bor_sd_minimum_6_weeks(first, expected):
    bor = best_overall_response([tpr(first, R.SD), tpr(first + 56, R.PD)], treatment_start=START)
    assert bor.response is expected


def test_rec_bor_ignores_time_points_after_progression():
    bor = best_overall_response(
        [tpr(56, R.SD), tpr(112, R.PD), tpr(168, R.PR)], treatment_start=START
    )
    assert bor.response is R.SD


def test_rec_bor_non_target_only_disease():
    bor = best_overall_response([tpr(56, R.NON_CR_NON_PD)], treatment_start=START)
    assert bor.response is R.NON_CR_NON_PD


def test_rec_prrt_early_pd_flag_boundary():
    last = date(2026, 3, 26)
    for pd_date, flagged in [
        (date(2026, 6, 25), True),
        (date(2026, 6, 26), False),
        (date(2026, 6, 27), False),
    ]:
        response = TimePointResponse(
            pd_date, R.PD, R.PD, None, NewLesions.NONE, None, None, None, None, None, (), ()
        )
        bor = best_overall_response([response], treatment_start=START, last_cycle_date=last)
        assert ("REC-PRRT-EARLY-PD-MDT" in bor.flags) is flagged


# ------------------------------------------------------------------ PERCIST


@pytest.mark.parametrize(
    ("follow", "expected"),
    [
        (7.01, PercistResponse.SMD),  # fall 29.9 %
        (7.0, PercistResponse.PMR),  # fall 30 % and 3.0 SUL
        (6.99, PercistResponse.PMR),
        (12.99, PercistResponse.SMD),  # rise 29.9 %
        (13.0, PercistResponse.SMD),  # rise exactly 30 %: PMD needs > 30 %
        (13.01, PercistResponse.PMD),
    ],
)
def test_per_3_percent_thresholds(follow, expected):
    assert (
        percist_response(
            baseline_sul_peak=10.0, followup_sul_peak=follow, new_lesions=False
        ).response
        is expected
    )


@pytest.mark.parametrize(
    ("base", "follow", "expected"),
    [
        (2.0, 1.21, PercistResponse.SMD),  # fall 0.79 SUL (39.5 %)
        (2.0, 1.2, PercistResponse.PMR),  # fall 0.8 SUL
        (2.0, 1.19, PercistResponse.PMR),
        (2.0, 2.79, PercistResponse.SMD),  # rise 0.79 (39.5 %)
        (2.0, 2.8, PercistResponse.PMD),  # rise 0.8 and 40 %
        (2.0, 2.81, PercistResponse.PMD),
    ],
)
def test_per_3_absolute_0_8_sul_thresholds(base, follow, expected):
    assert (
        percist_response(
            baseline_sul_peak=base, followup_sul_peak=follow, new_lesions=False
        ).response
        is expected
    )


def test_per_3_new_lesions_cmr_and_tlg():
    assert (
        percist_response(baseline_sul_peak=10.0, followup_sul_peak=3.0, new_lesions=True).response
        is PercistResponse.PMD
    )
    cmr = percist_response(
        baseline_sul_peak=10.0,
        followup_sul_peak=1.5,
        new_lesions=False,
        complete_metabolic_response=True,
    )
    assert cmr.response is PercistResponse.CMR
    tlg = [
        percist_response(
            baseline_sul_peak=10.0,
            followup_sul_peak=10.0,
            new_lesions=False,
            tlg_increase_percent=t,
        ).response
        for t in (74.9, 75.0, 75.1)
    ]
    assert tlg == [PercistResponse.SMD, PercistResponse.PMD, PercistResponse.PMD]
    # TLG rise with an SULpeak fall is not PMD
    fall = percist_response(
        baseline_sul_peak=10.0, followup_sul_peak=9.0, new_lesions=False, tlg_increase_percent=80.0
    )
    assert fall.response is PercistResponse.SMD
    assert fall.change_percent == pytest.approx(-10.0)


def test_per_2_measurability_threshold():
    threshold = percist_measurability_threshold(liver_sul_mean=2.0, liver_sul_sd=0.3)
    assert threshold == 3.6  # 1.5 x 2.0 + 2 x 0.3
    assert (
        percist_measurability_threshold(liver_sul_mean=1.8, liver_sul_sd=0.2, use_blood_pool=True)
        == 4.0
    )
    assert percist_response(
        baseline_sul_peak=3.6,
        followup_sul_peak=3.6,
        new_lesions=False,
        measurability_threshold=threshold,
    )
    with pytest.raises(InvalidInputError, match="baseline_sul_peak"):
        percist_response(
            baseline_sul_peak=3.59,
            followup_sul_peak=2.0,
            new_lesions=False,
            measurability_threshold=threshold,
        )


@pytest.mark.parametrize(("follow_liver", "ok"), [(1.19, True), (1.2, True), (1.21, False)])
def test_per_2_liver_consistency_20_percent_boundary(follow_liver, ok):
    # baseline 1.0: the 20 % limit (0.2 SUL) binds before the 0.3 SUL limit
    c = percist_consistency(
        baseline_liver_sul_mean=1.0, followup_liver_sul_mean=follow_liver,
        baseline_uptake_time_s=3600, followup_uptake_time_s=3600,
    )  # fmt: skip
    assert c.liver_consistent is ok


@pytest.mark.parametrize(("follow_liver", "ok"), [(2.29, True), (2.3, False), (2.31, False)])
def test_per_2_liver_consistency_0_3_sul_boundary(follow_liver, ok):
    c = percist_consistency(
        baseline_liver_sul_mean=2.0, followup_liver_sul_mean=follow_liver,
        baseline_uptake_time_s=3600, followup_uptake_time_s=3600,
    )  # fmt: skip
    assert c.liver_consistent is ok


@pytest.mark.parametrize(
    ("base_s", "follow_s", "ok"),
    [
        (3600, 4200, True),  # 60 and 70 min
        (3600, 4201, False),  # beyond 70 min
        (3000, 3900, True),  # exactly 15 min apart
        (3000, 3901, False),  # more than 15 min apart
        (2999, 3600, False),  # before 50 min
    ],
)
def test_per_2_uptake_time_consistency(base_s, follow_s, ok):
    c = percist_consistency(
        baseline_liver_sul_mean=2.0, followup_liver_sul_mean=2.0,
        baseline_uptake_time_s=base_s, followup_uptake_time_s=follow_s,
    )  # fmt: skip
    assert c.uptake_time_consistent is ok
    assert c.comparable is ok


def test_percist_bad_input_refused():
    with pytest.raises(InvalidInputError, match="followup_sul_peak"):
        percist_response(baseline_sul_peak=5.0, followup_sul_peak=-1.0, new_lesions=False)
    with pytest.raises(InvalidInputError, match="baseline_sul_peak"):
        percist_response(baseline_sul_peak=0.0, followup_sul_peak=1.0, new_lesions=False)
    with pytest.raises(InvalidInputError, match="baseline_uptake_time_s"):
        percist_consistency(
            baseline_liver_sul_mean=2.0, followup_liver_sul_mean=2.0, baseline_uptake_time_s="60 min",
            followup_uptake_time_s=3600,
        )  # fmt: skip
