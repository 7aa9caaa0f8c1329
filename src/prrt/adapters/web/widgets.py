"""The pages' widgets: a labelled input, a labelled select, the CSRF field, the long tables' rows.

Python functions the templates call (``field(...)``, ``select(...)``, ``csrf(...)``),
returning escaped :class:`~markupsafe.Markup`.  They were Jinja macros; a patient page
calls them about fifty times, and the macro calls were two thirds of its rendering
(0.84 of 1.24 ms).  A refused value marks its field: ``class="invalid"``,
``aria-invalid`` and a message with ``role="alert"`` next to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

__all__ = ["csrf", "field", "lab_rows", "outcome_rows", "select"]


def field(
    name: str,
    label: str,
    errors: Mapping[str, str],
    value: Any = "",
    type: str = "text",
    placeholder: str = "",
    size: int = 14,
) -> Markup:
    """``<label>`` with an ``<input>``; with a message for ``name`` in ``errors``, marked invalid."""
    n = escape(name)
    error = errors.get(name)
    marked = f'class="invalid" aria-invalid="true" aria-describedby="err-{n}"' if error else ""
    message = (
        f'<span class="field-error" id="err-{n}" role="alert">{escape(error)}</span>'
        if error
        else ""
    )
    return Markup(
        f'<label>{escape(label)} <input type="{escape(type)}" name="{n}" value="{escape(value)}"'
        f' placeholder="{escape(placeholder)}" size="{escape(size)}"\n{marked}>\n{message}</label>'
    )


def select(
    name: str,
    label: str,
    options: Iterable[tuple[Any, Any]],
    errors: Mapping[str, str],
    value: Any = "",
) -> Markup:
    """``<label>`` with a ``<select>`` of ``(value, text)`` options, ``value`` selected."""
    error = errors.get(name)
    choices = "".join(
        f'<option value="{escape(v)}" {"selected" if v == value else ""}>{escape(text)}</option>'
        for v, text in options
    )
    message = f'<span class="field-error" role="alert">{escape(error)}</span>' if error else ""
    marked = 'class="invalid"' if error else ""
    return Markup(
        f'<label>{escape(label)} <select name="{escape(name)}" {marked}>\n'
        f"{choices}</select>{message}</label>"
    )


def csrf(principal: Any) -> Markup:
    """The hidden field with the session's CSRF token."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(principal.csrf_token)}">')


def outcome_rows(outcomes: Iterable[Mapping[str, Any]]) -> Markup:
    """The eligibility checklist's rows (rule, status badge, finding, source), applicable only.

    The rows of the two long tables of the patient page are written here rather than by
    the template's loop: a Jinja expression per cell cost more than the cell.
    """
    return Markup(
        "".join(
            f"<tr><td>{escape(o['rule_id'])}</td>"
            f'<td><span class="badge {escape(o["status"])}">{escape(o["status"])}</span></td>'
            f'<td>{escape(o["message"])}</td><td class="muted">{escape(o["source"])}</td></tr>'
            for o in outcomes
            if o["status"] != "not_applicable"
        )
    )


def lab_rows(labs: Iterable[tuple[Any, Any, Any, float, Any, Any]]) -> Markup:
    """The lab table's rows from ``(drawn_on, for_cycle, analyte, value, unit, entered_as)``."""
    return Markup(
        "".join(
            f"<tr><td>{escape(drawn_on)}</td><td>{escape(for_cycle or '')}</td>"
            f'<td>{escape(analyte)}</td><td class="num">{escape(f"{value:.4g}")} {escape(unit)}'
            f'</td><td class="muted">{escape(entered_as)}</td></tr>'
            for drawn_on, for_cycle, analyte, value, unit, entered_as in labs
        )
    )
