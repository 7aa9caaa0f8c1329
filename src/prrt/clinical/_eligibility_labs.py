"""Laboratory, history, disease-extent and information rules of ELIG-ALGO (clinical-rules.md §3.2-3.3).

Used by :mod:`prrt.clinical.eligibility`; each function appends outcomes to a
:class:`~prrt.clinical._eligibility_rules.Rules` collector.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from datetime import date

from prrt.clinical._eligibility_rules import Rules, clean
from prrt.clinical.eligibility_input import (
    RECENT_THERAPY_KINDS,
    BrainMetastases,
    EligibilityInput,
    PriorTherapy,
    TherapyKind,
)
from prrt.clinical.outcome import Severity, Status
from prrt.clinical.profiles import Profile
from prrt.clinical.renal import creatinine_clearance_cockcroft_gault, egfr_ckd_epi_2021
from prrt.errors import InvalidInputError, NonConformingInputWarning

_DAYS_PER_WEEK = 7.0
#: EU "not recommended" CrCl limit named in the C-CRCL-30-49 text (LysaKare SmPC 4.2/4.4
#: restatement, clinical-rules.md §3.1 B); explanatory only, the rule itself uses the table.
EU_CRCL_NOT_RECOMMENDED_ML_PER_MIN = 40.0


def renal_values(inp: EligibilityInput) -> tuple[float | None, float | None]:
    scr, age, sex = inp.creatinine_umol_per_l, inp.age_years, inp.sex
    if scr is None or age is None or sex is None:
        return None, None
    with warnings.catch_warnings():
        # The adult-only warning of the renal equations is reported by the caller, once.
        warnings.simplefilter("ignore", NonConformingInputWarning)
        egfr = egfr_ckd_epi_2021(creatinine_umol_per_l=scr, age_years=age, sex=sex)
        crcl = (
            creatinine_clearance_cockcroft_gault(
                creatinine_umol_per_l=scr, age_years=age, weight_kg=inp.weight_kg, sex=sex
            )
            if inp.weight_kg is not None
            else None
        )
    return crcl, egfr


def opt_clean(value: float | None) -> float | None:
    return None if value is None else clean(value)


def lab_rules(rules: Rules, inp: EligibilityInput, profile: Profile, crcl: float | None) -> None:
    th = profile.threshold
    rules.numeric(th("X-HB-LT8"), opt_clean(inp.haemoglobin_g_per_l), label="haemoglobin")
    rules.numeric(th("X-WBC-LT2"), opt_clean(inp.white_cells_1e9_per_l), label="WBC")
    rules.numeric(th("X-PLT-LT75"), opt_clean(inp.platelets_1e9_per_l), label="platelets")
    rules.numeric(th("W-ANC-LT1"), opt_clean(inp.neutrophils_1e9_per_l), label="ANC")
    rules.numeric(th("X-CRCL-LT30"), crcl, label="CrCl (Cockcroft-Gault, actual weight)")
    note = ""
    t_low, t_band = th("X-CRCL-LT30"), th("C-CRCL-30-49")
    if (
        profile.eu_renal_subband_text
        and crcl is not None
        and not t_low.fires(crcl)
        and t_band.fires(crcl)
    ):
        eu = EU_CRCL_NOT_RECOMMENDED_ML_PER_MIN
        note = (
            f"EU: not recommended below {eu:g} mL/min"
            if crcl < eu
            else f"EU: careful benefit-risk from {eu:g} mL/min (hyperkalaemia risk of amino acids)"
        )
    rules.numeric(
        th("C-CRCL-30-49"),
        crcl,
        label="CrCl (Cockcroft-Gault, actual weight)",
        lower=th("X-CRCL-LT30"),
        note=note,
    )
    rules.numeric(th("C-SCR-GT150"), opt_clean(inp.creatinine_umol_per_l), label="serum creatinine")

    bili_ratio = None
    if inp.bilirubin_umol_per_l is not None and inp.bilirubin_uln_umol_per_l is not None:
        if not inp.bilirubin_uln_umol_per_l > 0:
            raise InvalidInputError(
                "labs.bilirubin.uln",
                inp.bilirubin_uln_umol_per_l,
                "a positive upper limit of normal",
            )
        bili_ratio = clean(inp.bilirubin_umol_per_l / inp.bilirubin_uln_umol_per_l)
    rules.numeric(
        th("X-BILI-GT3ULN"),
        bili_ratio,
        label="total bilirubin",
        note=""
        if bili_ratio is not None or inp.bilirubin_umol_per_l is None
        else "upper limit of normal missing",
    )

    # Albumin with prothrombin (§3.2 "Prothrombin abnormal" [P]).
    pt_abnormal: bool | None
    if inp.prothrombin_percent is not None:
        t_pt = th("PT-ABNORMAL-PERCENT")
        pt_abnormal = t_pt.fires(clean(inp.prothrombin_percent))
        pt_text = f"PT activity {inp.prothrombin_percent:g} % (abnormal {t_pt.fail_when} {t_pt.value:g} %)"
    elif inp.inr is not None and profile.inr_fallback:
        t_inr = th("PT-ABNORMAL-INR")
        pt_abnormal = t_inr.fires(clean(inp.inr))
        pt_text = (
            f"INR {inp.inr:g} (abnormal {t_inr.fail_when} {t_inr.value:g}; PT activity not given)"
        )
    else:
        pt_abnormal, pt_text = None, "prothrombin not given"
    alb = opt_clean(inp.albumin_g_per_l)
    t_x, t_w = th("X-ALB-LT30-PT-ABNORMAL"), th("W-ALB-LT30-PT-NORMAL")
    for t, fires_when_abnormal in ((t_x, True), (t_w, False)):
        low = f"albumin {alb:g} g/L {t.fail_when} {t.value:g} g/L" if alb is not None else ""
        if alb is None:
            status, msg = Status.INDETERMINATE, "albumin missing"
        elif not t.fires(alb):
            status, msg = Status.PASS, f"albumin {alb:g} g/L meets {t.requirement} {t.value:g} g/L"
        elif pt_abnormal is None:
            status, msg = Status.INDETERMINATE, f"{low}; {pt_text}"
        elif pt_abnormal is fires_when_abnormal:
            status, msg = Status.FAIL, f"{low} with {pt_text}"
        else:
            status, msg = Status.NOT_APPLICABLE, f"{low}; {pt_text}: see the other albumin rule"
        rules.add(
            t.rule_id,
            status,
            observed=alb,
            threshold=t.value,
            operator=t.requirement,
            unit=t.unit,
            source=t.source,
            severity=t.severity,
            message=msg,
        )
    rules.numeric(
        th("C-DIABETES-UNCONTROLLED"),
        opt_clean(inp.fasting_glucose_x_uln),
        label="fasting glucose",
    )


def weeks_between(earlier: date, later: date) -> float:
    return (later - earlier).days / _DAYS_PER_WEEK


def history_rules(rules: Rules, inp: EligibilityInput, profile: Profile) -> bool | None:
    th = profile.threshold
    therapies = inp.prior_therapies
    ref = inp.assessment_date

    def latest(
        items: tuple[PriorTherapy, ...], kinds: frozenset[TherapyKind]
    ) -> tuple[float | None, bool]:
        """Weeks since the most recent therapy of ``kinds``; flag True if a date is missing."""
        relevant = [t for t in items if t.kind in kinds]
        dated = [t.end_date for t in relevant if t.end_date is not None]
        undated = len(dated) < len(relevant)
        if not dated:
            return None, undated
        return clean(weeks_between(max(dated), ref)), undated

    if therapies is None:
        for rule_id in (
            "C-RECENT-THERAPY-LT12W",
            "C-EBRT-MARROW-GT25",
            "W-SSA-LAR-WASHOUT",
            "W-SSA-SHORT-WASHOUT",
        ):
            rules.numeric(th(rule_id), None, label="prior therapy history")
        prior_prrt: bool | None = None
    else:
        weeks, undated = latest(therapies, RECENT_THERAPY_KINDS)
        if weeks is None:
            value: float | None = None if undated else math.inf
        else:
            value = weeks
        if weeks is not None and undated and not th("C-RECENT-THERAPY-LT12W").fires(weeks):
            value = None  # an undated therapy could be recent
        rules.numeric(
            th("C-RECENT-THERAPY-LT12W"),
            value,
            label="weeks since chemotherapy/targeted/interferon/investigational/surgery/liver-directed therapy",
            observed_text="none" if value == math.inf else None,
        )
        ebrt = [t for t in therapies if t.kind is TherapyKind.EXTERNAL_BEAM_RADIOTHERAPY]
        fractions = [t.marrow_irradiated_percent for t in ebrt]
        known_fr = [f for f in fractions if f is not None]
        marrow: float | None
        if not ebrt:
            marrow = 0.0
        elif len(known_fr) == len(fractions) or (
            known_fr and th("C-EBRT-MARROW-GT25").fires(max(known_fr))
        ):
            marrow = max(known_fr) if known_fr else None
        else:
            marrow = None
        rules.numeric(th("C-EBRT-MARROW-GT25"), marrow, label="bone marrow irradiated")
        lar_weeks, lar_undated = latest(therapies, frozenset({TherapyKind.SSA_LONG_ACTING}))
        rules.numeric(
            th("W-SSA-LAR-WASHOUT"),
            None if lar_undated else (lar_weeks if lar_weeks is not None else math.inf),
            label="weeks since long-acting SSA",
        )
        short = [t for t in therapies if t.kind is TherapyKind.SSA_SHORT_ACTING]
        short_dates = [t.end_date for t in short if t.end_date is not None]
        short_undated = len(short_dates) < len(short)
        short_days = float((ref - max(short_dates)).days) if short_dates else None
        note = (
            "dates only: a dose the day before may be < 24 h before; check the time"
            if short_days == 1.0
            else ""
        )
        rules.numeric(
            th("W-SSA-SHORT-WASHOUT"),
            None if short_undated else (short_days if short_days is not None else math.inf),
            label="days since short-acting SSA",
            note=note,
        )
        prior_prrt = any(t.kind is TherapyKind.PRRT for t in therapies)

    chemo = (
        None if therapies is None else [t for t in therapies if t.kind is TherapyKind.CHEMOTHERAPY]
    )
    myelo: bool | None
    if chemo is None:
        myelo = None
    elif any(t.myelotoxic is True for t in chemo):
        myelo = True
    elif any(t.myelotoxic is None for t in chemo):
        myelo = None
    else:
        myelo = False
    rules.flag(
        "W-PRIOR-MYELOTOXIC-CHEMO",
        myelo,
        observed=myelo,
        source="EU SmPC [R]: prior myelotoxic (alkylating) chemotherapy raises MDS/AML risk",
        severity=Severity.WARNING,
        fired="prior alkylating/myelotoxic chemotherapy: MDS/AML risk",
        cleared="no prior myelotoxic chemotherapy",
        missing="prior therapy history, or whether a chemotherapy was myelotoxic, missing",
    )
    rules.flag(
        "W-PRIOR-RADIOEMBOLISATION",
        None
        if therapies is None
        else any(t.kind is TherapyKind.RADIOEMBOLISATION for t in therapies),
        observed=None
        if therapies is None
        else any(t.kind is TherapyKind.RADIOEMBOLISATION for t in therapies),
        source="NANETS/SNMMI 2020 [R]",
        severity=Severity.WARNING,
        fired="prior 90Y radioembolisation: hepatotoxicity risk",
        cleared="no prior radioembolisation",
        missing="prior therapy history missing",
    )
    rules.flag(
        "RT-PRIOR-PRRT",
        prior_prrt,
        observed=prior_prrt,
        source="ELIG-ALGO: prior PRRT routes to the re-treatment rules of §8",
        severity=Severity.INFORMATION,
        fired="prior PRRT: re-treatment pathway (§8)",
        cleared="no prior PRRT",
        missing="prior therapy history missing",
    )
    rules.flag(
        "C-BRAIN-METS-UNSTABLE",
        None
        if inp.brain_metastases is None
        else inp.brain_metastases is BrainMetastases.UNTREATED_OR_UNSTABLE,
        observed=inp.brain_metastases.value if inp.brain_metastases else None,
        source="NETTER-1 exclusion: untreated or unstable brain metastases",
        severity=Severity.CAUTION,
        fired="brain metastases untreated or not stable",
        cleared="no brain metastases, or treated and stable",
        missing="brain metastasis status missing",
    )
    rules.flag(
        "C-CHF-UNCONTROLLED",
        inp.heart_failure_uncontrolled,
        observed=inp.heart_failure_uncontrolled,
        source="NETTER-1 exclusion: uncontrolled heart failure (NYHA II-IV); EU: NYHA III-IV not recommended",
        severity=Severity.CAUTION,
        fired="uncontrolled heart failure (amino-acid fluid load)",
        cleared="no uncontrolled heart failure",
        missing="heart failure status missing",
    )
    return prior_prrt


def extent_rules(rules: Rules, inp: EligibilityInput, profile: Profile) -> None:
    """Disease-extent rules; their class is the profile's ``disease_extent_severity``."""
    severity = (
        Severity.CAUTION if profile.disease_extent_severity == "caution" else Severity.WARNING
    )
    t_liver = dataclasses.replace(profile.threshold("W-LIVER-BURDEN-GT50"), severity=severity)
    perit: bool | None
    if inp.peritoneal_carcinomatosis is True or inp.mesenteric_mass is True:
        perit = True
    elif inp.peritoneal_carcinomatosis is None or inp.mesenteric_mass is None:
        perit = None
    else:
        perit = False
    rules.flag(
        "W-PERITONEAL-MESENTERIC",
        perit,
        observed=perit,
        source="Seed ref 17; Strosberg et al., J Nucl Med 2021 [R]: bowel obstruction/ascites risk",
        severity=severity,
        fired="peritoneal carcinomatosis or mesenteric mass: bowel obstruction risk; consider low-dose steroid prophylaxis for 2-4 weeks",
        cleared="no peritoneal/mesenteric disease",
        missing="peritoneal/mesenteric disease status missing",
    )
    rules.numeric(t_liver, inp.liver_tumour_burden_percent, label="hepatic tumour burden")
    rules.flag(
        "W-DIFFUSE-BONE-MARROW",
        inp.diffuse_bone_marrow_involvement,
        observed=inp.diffuse_bone_marrow_involvement,
        source="EU SmPC / IAEA 2013 risk factor [R]",
        severity=severity,
        fired="diffuse bone-marrow involvement: haematotoxicity risk",
        cleared="no diffuse bone-marrow involvement",
        missing="bone-marrow involvement status missing",
    )
    rules.flag(
        "W-URINARY-INCONTINENCE",
        inp.urinary_incontinence,
        observed=inp.urinary_incontinence,
        source="NETTER-1 exclusion [R]: contamination risk",
        severity=Severity.WARNING,
        fired="urinary incontinence: radioactive contamination risk",
        cleared="continent",
        missing="continence status missing",
    )


def information(rules: Rules, inp: EligibilityInput) -> None:
    """PPQ and NETest: shown, never a gate."""
    if inp.ppq is not None:
        rules.add(
            "I-PPQ",
            Status.NOT_APPLICABLE,
            observed=inp.ppq,
            source="PRRT predictive quotient (Bodei et al., 2018) [R]; informational only",
            severity=Severity.INFORMATION,
            message=f"PPQ {inp.ppq}: informational, not used as a gate",
        )
    if inp.netest_percent is not None:
        rules.add(
            "I-NETEST",
            Status.NOT_APPLICABLE,
            observed=inp.netest_percent,
            unit="%",
            source="NETest multi-analyte blood assay (Modlin et al.) [R]; informational only",
            severity=Severity.INFORMATION,
            message=f"NETest {inp.netest_percent:g} %: informational, not used as a gate",
        )
