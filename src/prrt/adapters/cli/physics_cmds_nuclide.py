"""``prrt nuclide``: the JSON payload and the text rendering of a nuclide's data.

Used by :func:`prrt.adapters.cli.physics_cmds.register`; the JSON shape is
documented in ``docs/physics.md``.
"""

from __future__ import annotations

from typing import Any

from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from prrt.adapters.cli._common import stdout_console
from prrt.adapters.cli.physics_cmds_format import _fmt_duration, _fmt_kev
from prrt.errors import InvalidInputError
from prrt.physics import (
    Nuclide,
    decay_factor,
    dose_rate_constant,
    equilibrium_activity_ratios,
    get_nuclide,
    photon_lines,
    radiopharmaceuticals_with,
)

__all__: list[str] = []

# ----------------------------------------------------------------------------- nuclide


def _nuclide_payload(nuclide: Nuclide) -> dict[str, Any]:
    def energies(e: Any) -> dict[str, float]:
        return {
            "electron_mev": e.electron_mev,
            "photon_mev": e.photon_mev,
            "alpha_mev": e.alpha_mev,
            "alpha_recoil_mev": e.alpha_recoil_mev,
            "total_mev": e.total_mev,
        }

    own = energies(nuclide.emissions)
    if nuclide.electron_components is not None:
        own["beta_mev"] = nuclide.electron_components.beta_mev
        own["conversion_electron_mev"] = nuclide.electron_components.conversion_electron_mev
        own["auger_mev"] = nuclide.electron_components.auger_mev
    try:
        ratios: dict[str, float] | None = dict(equilibrium_activity_ratios(nuclide))
    except InvalidInputError:
        ratios = None
    try:
        constants = dose_rate_constant(nuclide)
        dose_rate: dict[str, Any] | None = {
            "air_kerma_rate_constant_gy_mm2_per_bq_s": constants.air_kerma_rate_constant_gy_mm2_per_bq_s,
            "ambient_dose_equivalent_rate_constant_sv_mm2_per_bq_s": (
                constants.ambient_dose_equivalent_rate_constant_sv_mm2_per_bq_s
            ),
            "patient_dose_rate_at_1m_sv_per_s_per_bq": constants.patient_dose_rate_at_1m_sv_per_s_per_bq,
            "patient_dose_rate_at_1m_interval_sv_per_s_per_bq": list(
                constants.patient_dose_rate_at_1m_interval_sv_per_s_per_bq
            ),
            "published": [
                {"quantity": q, "value": v, "unit": u} for q, v, u in constants.published
            ],
            "sources": dict(constants.sources),
        }
    except InvalidInputError:
        dose_rate = None
    return {
        "nuclide": nuclide.name,
        "half_life_s": nuclide.half_life_s,
        "decay_constant_per_s": nuclide.decay_constant_per_s,
        "mean_life_s": nuclide.mean_life_s,
        "progeny": [
            {"name": name, "branching_fraction": fraction, "decay_mode": mode}
            for name, fraction, mode in zip(
                nuclide.progeny,
                nuclide.branching_fractions,
                nuclide.decay_modes or ("",) * len(nuclide.progeny),
                strict=True,
            )
        ],
        "emissions_per_decay": own,
        "chain": [
            {
                "name": member.name,
                "half_life_s": get_nuclide(member.name).half_life_s,
                "decays_per_parent_decay": member.decays_per_parent_decay,
            }
            for member in nuclide.chain
        ],
        "chain_emissions_per_parent_decay": energies(nuclide.chain_emissions),
        "neglected_branches": [
            {"name": m.name, "decays_per_parent_decay": m.decays_per_parent_decay}
            for m in nuclide.neglected_branches
        ],
        "equilibrium_activity_ratios": ratios,
        "photon_lines": [
            {
                "emitter": member.name,
                "energy_kev": line.energy_kev,
                "yield_per_decay": line.yield_per_decay,
                "yield_per_parent_decay": line.yield_per_decay * member.decays_per_parent_decay,
                "use": line.use,
                "source": line.source,
            }
            for member in nuclide.chain
            for line in photon_lines(member.name)
        ],
        "dose_rate_constant": dose_rate,
        "radiopharmaceuticals": [
            {
                "id": a.id,
                "name": a.name,
                "receptor_action": a.receptor_action.value,
                "regulatory_status": a.regulatory_status.value,
                "standard_activity_per_cycle_bq": a.standard_activity_per_cycle_bq,
            }
            for a in radiopharmaceuticals_with(nuclide)
        ],
        "remaining_fraction": [
            {"elapsed_s": t, "fraction": decay_factor(nuclide, t)}
            for t in _remaining_times(nuclide.half_life_s)
        ],
        "data_sources": list(nuclide.data_sources),
    }


def _remaining_times(half_life_s: float) -> tuple[float, ...]:
    """Round clinical times at which to show the fraction left (none for very short half-lives)."""
    if half_life_s >= 86400.0:
        return (86400.0, 7 * 86400.0, 14 * 86400.0, 28 * 86400.0)
    if half_life_s >= 1800.0:
        return (3600.0, 6 * 3600.0, 24 * 3600.0, 48 * 3600.0)
    return ()


def _fmt_round(seconds: float) -> str:
    for size, unit in ((86400.0, "d"), (3600.0, "h")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return _fmt_duration(seconds)


def _fmt_half_life(seconds: float) -> str:
    text = _fmt_duration(seconds)
    if seconds >= 2 * 86400.0:
        text += f" = {seconds / 3600.0:.4g} h"
    return f"{text}  ({seconds:.6g} s)"


def _render_nuclide(p: dict[str, Any]) -> None:
    console = stdout_console
    half_life = p["half_life_s"]
    if p["progeny"]:
        decays = "; ".join(
            f"{d['decay_mode']} {d['branching_fraction'] * 100:.4g} % → {d['name']}"
            for d in p["progeny"]
        )
    else:
        decays = "stable"
    header = Text.assemble(
        ("Half-life  ", "bold"),
        f"{_fmt_half_life(half_life)}\n",
        ("Decay      ", "bold"),
        f"{decays}\n",
        ("λ          ", "bold"),
        f"{p['decay_constant_per_s']:.5e} /s   mean life {_fmt_duration(p['mean_life_s'])}",
    )
    if p["remaining_fraction"]:
        left = "  ·  ".join(
            f"{_fmt_round(r['elapsed_s'])} {r['fraction'] * 100:.3g} %"
            for r in p["remaining_fraction"]
        )
        header.append("\n")
        header.append("Left after ", style="bold")
        header.append(left)
    console.print(
        Panel(
            header,
            title=Text(str(p["nuclide"]), style="bold cyan"),
            title_align="left",
            expand=False,
        )
    )

    own, chain = p["emissions_per_decay"], p["chain_emissions_per_parent_decay"]
    has_chain = len(p["chain"]) > 1
    energy = Table(
        title="Mean energy emitted per decay (keV)", title_justify="left", show_edge=False
    )
    energy.add_column("Radiation")
    energy.add_column(p["nuclide"], justify="right")
    if has_chain:
        energy.add_column("whole chain, per parent decay", justify="right")
    rows = [
        ("Electrons (β + CE + Auger)", "electron_mev"),
        ("Photons (γ + X + annihilation)", "photon_mev"),
    ]
    if "beta_mev" in own:
        rows[1:1] = [
            ("  β (mean)", "beta_mev"),
            ("  conversion electrons", "conversion_electron_mev"),
            ("  Auger", "auger_mev"),
        ]
    if own["alpha_mev"] > 0 or chain["alpha_mev"] > 0:
        rows += [("Alpha", "alpha_mev"), ("Alpha recoil", "alpha_recoil_mev")]
    rows.append(("Total", "total_mev"))
    for label, key in rows:
        cells = [label, _fmt_kev(own[key])]
        if has_chain:
            cells.append(_fmt_kev(chain[key]) if key in chain else "")
        energy.add_row(*cells, style="bold" if key == "total_mev" else None)
    console.print(energy)
    if has_chain:
        console.print(
            Text(
                "Whole chain: every daughter decays where the parent decayed (no redistribution), "
                "weighted by its branching; dosimetry-reference.md §1.3.",
                style="dim",
            )
        )

    if has_chain:
        ratios = p["equilibrium_activity_ratios"] or {}
        table = Table(title="Decay chain (ICRP-107)", title_justify="left", show_edge=False)
        for column in (
            "Member",
            "Half-life",
            "Decays per parent decay",
            "A/A(parent) at equilibrium",
        ):
            table.add_column(column, justify="left" if column == "Member" else "right")
        for member in p["chain"]:
            ratio = ratios.get(member["name"])
            table.add_row(
                member["name"],
                _fmt_duration(member["half_life_s"]),
                f"{member['decays_per_parent_decay']:.4g}",
                "—"
                if member["name"] == p["nuclide"]
                else (f"{ratio:.4f}" if ratio is not None else "no equilibrium"),
            )
        console.print(table)

    if p["photon_lines"]:
        title = "Main photon lines" + (" of the chain" if has_chain else "")
        lines = Table(title=title, title_justify="left", show_edge=False)
        if has_chain:
            lines.add_column("Emitter")
        lines.add_column("Energy (keV)", justify="right")
        lines.add_column("Yield per decay", justify="right")
        if has_chain:
            lines.add_column(f"per {p['nuclide']} decay", justify="right")
        lines.add_column("Use")
        for line in p["photon_lines"]:
            cells = [f"{line['energy_kev']:g}", f"{line['yield_per_decay'] * 100:.3g} %"]
            if has_chain:
                cells = [line["emitter"], *cells, f"{line['yield_per_parent_decay'] * 100:.3g} %"]
            lines.add_row(*cells, line["use"])
        console.print(lines)

    if p["dose_rate_constant"]:
        published = {
            d["quantity"]: (d["value"], d["unit"]) for d in p["dose_rate_constant"]["published"]
        }
        gamma = Table(title="Dose rate at 1 m", title_justify="left", show_edge=False)
        gamma.add_column("Quantity")
        gamma.add_column("Value", justify="right")
        labels = {
            "air_kerma_rate_constant": "Air-kerma-rate constant (point source)",
            "ambient_dose_equivalent_rate_constant": "H*(10)-rate constant (point source)",
            "patient_dose_rate_at_1m_mean": "Measured, patient after therapy (mean)",
        }
        for key, label in labels.items():
            if key in published:
                value, unit = published[key]
                gamma.add_row(label, f"{value:g} {unit}")
        console.print(gamma)

    if p["radiopharmaceuticals"]:
        agents = Table(title="Radiopharmaceuticals", title_justify="left", show_edge=False)
        for column in ("Agent", "SSTR", "Status", "Standard activity per cycle"):
            agents.add_column(column)
        for a in p["radiopharmaceuticals"]:
            standard = a["standard_activity_per_cycle_bq"]
            agents.add_row(
                a["name"],
                a["receptor_action"],
                a["regulatory_status"],
                f"{standard / 1e9:g} GBq" if standard else "none established",
            )
        console.print(agents)
    console.print(Text("Sources: " + "; ".join(p["data_sources"]), style="dim"))
