"""The pages' widgets: a labelled input, a labelled select, the CSRF field, the long tables' rows.

Python functions the templates call (``field(...)``, ``select(...)``, ``csrf(...)``),
returning escaped :class:`~markupsafe.Markup`.  They were Jinja macros; a patient page
calls them about fifty times, and the macro calls were two thirds of its rendering
(0.84 of 1.24 ms).  A refused value marks its field: ``class="invalid"``,
``aria-invalid`` and a message with ``role="alert"`` next to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = [
    "csrf",
    "escaped",
    "field",
    "lab_limit_fields",
    "lab_rows",
    "lab_value_fields",
    "outcome_rows",
    "select",
]

# Joins the values of one escape() call; a control character no form or record holds.
_SEPARATOR = "\x1f"


def escaped(values: Sequence[Any]) -> list[str]:
    """``[escape(v) for v in values]`` as text, in one call of markupsafe's C escape.

    A patient page escapes about a thousand short values; one call per value (a Python
    function and a ``Markup`` object each) was a third of its rendering.  The values are
    joined, escaped at once and split again, which gives the same text.  A value that
    carries its own HTML (``__html__``) or holds the separator is escaped on its own.
    """
    if not values:
        return []
    if not any(hasattr(kind, "__html__") for kind in {type(v) for v in values}):
        parts = str(escape(_SEPARATOR.join([str(v) for v in values]))).split(_SEPARATOR)
        if len(parts) == len(values):  # else a value held the separator
            return parts
    return [str(escape(v)) for v in values]


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
    error = errors.get(name)
    n, label_, type_, value_, placeholder_, size_, error_ = escaped(
        (name, label, type, value, placeholder, size, error or "")
    )
    marked = f'class="invalid" aria-invalid="true" aria-describedby="err-{n}"' if error else ""
    message = (
        f'<span class="field-error" id="err-{n}" role="alert">{error_}</span>' if error else ""
    )
    return Markup(
        f'<label>{label_} <input type="{type_}" name="{n}" value="{value_}"'
        f' placeholder="{placeholder_}" size="{size_}"\n{marked}>\n{message}</label>'
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
    pairs = list(options)
    texts = escaped([name, label, error or ""] + [x for pair in pairs for x in pair])
    name_, label_, error_ = texts[:3]
    choices = "".join(
        f'<option value="{texts[3 + 2 * i]}" {"selected" if v == value else ""}>'
        f"{texts[4 + 2 * i]}</option>"
        for i, (v, _text) in enumerate(pairs)
    )
    message = f'<span class="field-error" role="alert">{error_}</span>' if error else ""
    marked = 'class="invalid"' if error else ""
    return Markup(
        f'<label>{label_} <select name="{name_}" {marked}>\n{choices}</select>{message}</label>'
    )


def lab_value_fields(
    keys: Iterable[tuple[str, str]], errors: Mapping[str, str], form: Mapping[str, Any]
) -> Markup:
    """The lab form's value fields, ``values.<analyte>``, from ``(analyte, placeholder)`` pairs."""
    return Markup(
        "".join(
            field(
                f"values.{key}",
                key.replace("_", " "),
                errors,
                form.get(f"values.{key}", ""),
                placeholder=hint,
                size=12,
            )
            for key, hint in keys
        )
    )


def lab_limit_fields(
    keys: Iterable[tuple[str, str, str]], errors: Mapping[str, str], form: Mapping[str, Any]
) -> Markup:
    """The lab form's reference-limit fields, ``limits.<analyte>.<lln|uln>``, default ``hint``."""
    return Markup(
        "".join(
            field(
                f"limits.{key}.{which}",
                f"{key} {which.upper()}",
                errors,
                form.get(f"limits.{key}.{which}", hint),
                size=10,
            )
            for key, which, hint in keys
        )
    )


def csrf(principal: Any) -> Markup:
    """The hidden field with the session's CSRF token."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(principal.csrf_token)}">')


def outcome_rows(outcomes: Iterable[Mapping[str, Any]]) -> Markup:
    """The eligibility checklist's rows (rule, status badge, finding, source), applicable only.

    The rows of the two long tables of the patient page are written here rather than by
    the template's loop: a Jinja expression per cell cost more than the cell.
    """
    shown = [o for o in outcomes if o["status"] != "not_applicable"]
    t = escaped([o[k] for o in shown for k in ("rule_id", "status", "message", "source")])
    return Markup(
        "".join(
            f'<tr><td>{t[i]}</td><td><span class="badge {t[i + 1]}">{t[i + 1]}</span></td>'
            f'<td>{t[i + 2]}</td><td class="muted">{t[i + 3]}</td></tr>'
            for i in range(0, len(t), 4)
        )
    )


def lab_rows(labs: Iterable[tuple[Any, Any, Any, float, Any, Any]]) -> Markup:
    """The lab table's rows from ``(drawn_on, for_cycle, analyte, value, unit, entered_as)``."""
    t = escaped(
        [
            x
            for drawn_on, for_cycle, analyte, value, unit, entered_as in labs
            for x in (drawn_on, for_cycle or "", analyte, f"{value:.4g}", unit, entered_as)
        ]
    )
    return Markup(
        "".join(
            f"<tr><td>{t[i]}</td><td>{t[i + 1]}</td><td>{t[i + 2]}</td>"
            f'<td class="num">{t[i + 3]} {t[i + 4]}</td><td class="muted">{t[i + 5]}</td></tr>'
            for i in range(0, len(t), 6)
        )
    )
