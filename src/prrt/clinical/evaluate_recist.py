"""RECIST 1.1 of a case for :mod:`prrt.clinical.evaluate`: baseline, time points, best response.

The response section of a case is converted to the inputs of
:mod:`prrt.clinical.response` (lengths parsed with their units, errors named by
the JSON path of the case field).
"""

from __future__ import annotations

from prrt.clinical.case import Case
from prrt.clinical.evaluate_inputs import _at, _quantity
from prrt.clinical.response import (
    BaselineLesion,
    BestOverallResponse,
    NonTargetObservation,
    TargetMeasurement,
    TimePoint,
    TimePointResponse,
    assess_time_points,
    best_overall_response,
    select_baseline,
)
from prrt.units import Dimension

__all__: list[str] = []


def _recist(case: Case) -> tuple[tuple[TimePointResponse, ...], BestOverallResponse | None] | None:
    resp = case.response
    if resp is None:
        return None
    lesions = []
    for i, les in enumerate(resp.baseline_lesions):
        where = f"response.baseline_lesions[{i}]"
        with _at(where):
            lesions.append(
                BaselineLesion(
                    lesion_id=les.id,
                    organ=les.organ,
                    longest_diameter_mm=_quantity(
                        les.longest_diameter, Dimension.LENGTH, f"{where}.longest_diameter"
                    ),
                    short_axis_mm=_quantity(
                        les.short_axis, Dimension.LENGTH, f"{where}.short_axis"
                    ),
                    is_lymph_node=les.lymph_node,
                    modality=les.modality,
                    slice_thickness_mm=_quantity(
                        les.slice_thickness, Dimension.LENGTH, f"{where}.slice_thickness"
                    ),
                    non_measurable_reason=les.non_measurable_reason,
                )
            )
    with _at("response.target_ids" if resp.target_ids is not None else "response.baseline_lesions"):
        baseline = select_baseline(lesions, target_ids=resp.target_ids)
    time_points = []
    for i, tp in enumerate(resp.time_points):
        where = f"response.time_points[{i}]"
        targets = []
        for j, t in enumerate(tp.targets):
            with _at(f"{where}.targets[{j}]"):
                size = _quantity(t.size, Dimension.LENGTH, f"{where}.targets[{j}].size")
                targets.append(TargetMeasurement(t.id, t.state, size))
        non_targets = []
        for j, n in enumerate(tp.non_targets):
            with _at(f"{where}.non_targets[{j}]"):
                axis = _quantity(
                    n.short_axis, Dimension.LENGTH, f"{where}.non_targets[{j}].short_axis"
                )
                non_targets.append(NonTargetObservation(n.id, n.state, axis))
        with _at(where):
            time_points.append(
                TimePoint(
                    assessment_date=tp.date,
                    targets=tuple(targets),
                    non_targets=tuple(non_targets),
                    new_lesions=tp.new_lesions,
                    tumour_markers_normal=tp.tumour_markers_normal,
                    new_lesion_first_seen=tp.new_lesion_first_seen,
                    non_target_response=tp.non_target_response,
                )
            )
    with _at("response.time_points"):
        responses = assess_time_points(baseline, time_points)
    if not responses:
        return responses, None
    last_cycle = resp.last_cycle_date
    if last_cycle is None and case.course is not None and case.course.administrations:
        last_cycle = case.course.administrations[-1].date
    with _at("response"):
        best = best_overall_response(
            responses,
            treatment_start=resp.treatment_start,
            confirmation_required=resp.confirmation_required,
            last_cycle_date=last_cycle,
        )
    return responses, best
