"""The pages' form widgets: exact markup, escaping, and a refused value marked on its field."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from markupsafe import Markup, escape

from prrt.adapters.web.widgets import (
    csrf,
    escaped,
    field,
    lab_limit_fields,
    lab_rows,
    lab_value_fields,
    outcome_rows,
    select,
)


def test_a_field_escapes_its_label_value_and_placeholder():
    html = field("values.platelets", "Label <x>", {}, "v&1", placeholder="7 GBq", size=8)
    assert isinstance(html, Markup)
    assert html == (
        '<label>Label &lt;x&gt; <input type="text" name="values.platelets" value="v&amp;1" '
        'placeholder="7 GBq" size="8"\n>\n</label>'
    )


def test_a_refused_field_is_marked_invalid_with_its_message():
    html = field("drawn_on", "Drawn on", {"drawn_on": "bad <date>"}, "x", type="date")
    assert html == (
        '<label>Drawn on <input type="date" name="drawn_on" value="x" placeholder="" size="14"\n'
        'class="invalid" aria-invalid="true" aria-describedby="err-drawn_on">\n'
        '<span class="field-error" id="err-drawn_on" role="alert">bad &lt;date&gt;</span></label>'
    )


def test_a_number_value_is_written_as_text():
    assert 'value="3"' in field("cycle_number", "Cycle", {}, 3, size=3)


def test_a_select_marks_its_value_and_escapes_the_options():
    html = select("fdg", "FDG", [("", "not done"), ("positive", "positive & avid")], {}, "positive")
    assert html == (
        '<label>FDG <select name="fdg" >\n<option value="" >not done</option>'
        '<option value="positive" selected>positive &amp; avid</option></select></label>'
    )


def test_a_refused_select_is_marked_invalid_with_its_message():
    html = select("regimen", "Regimen", [("A", "A")], {"regimen": "unknown <regimen>"})
    assert html == (
        '<label>Regimen <select name="regimen" class="invalid">\n<option value="A" >A</option>'
        '</select><span class="field-error" role="alert">unknown &lt;regimen&gt;</span></label>'
    )


def test_the_csrf_field_escapes_the_token():
    token = SimpleNamespace(csrf_token='a"b&c')
    assert csrf(token) == '<input type="hidden" name="csrf_token" value="a&#34;b&amp;c">'


def test_outcome_rows_show_the_applicable_rules_escaped():
    outcomes = [
        {"rule_id": "R1", "status": "pass", "message": "Krenning 3 ≥ 3", "source": "SNMMI <2020>"},
        {"rule_id": "R2", "status": "not_applicable", "message": "-", "source": "-"},
    ]
    assert outcome_rows(outcomes) == (
        '<tr><td>R1</td><td><span class="badge pass">pass</span></td>'
        '<td>Krenning 3 ≥ 3</td><td class="muted">SNMMI &lt;2020&gt;</td></tr>'
    )
    assert outcome_rows([]) == ""


def test_lab_rows_write_four_significant_digits_and_the_unit():
    labs = [
        (date(2027, 1, 4), None, "platelets", 123456.0, "10^9/L", "123456 10^9/L"),
        (date(2027, 2, 1), 2, "creatinine", 7.5e-5, "mol/L", "75 µmol/L"),
    ]
    assert lab_rows(labs) == (
        '<tr><td>2027-01-04</td><td></td><td>platelets</td><td class="num">1.235e+05 10^9/L'
        '</td><td class="muted">123456 10^9/L</td></tr>'
        '<tr><td>2027-02-01</td><td>2</td><td>creatinine</td><td class="num">7.5e-05 mol/L'
        '</td><td class="muted">75 µmol/L</td></tr>'
    )


def test_escaped_gives_what_escape_gives_value_by_value():
    values = ["a<b", "", "q\"&'", 3, 2.5, date(2027, 1, 4), "≥ 3", Markup("<b>kept</b>")]
    assert escaped(values) == [str(escape(v)) for v in values]
    assert escaped(values[:-1]) == [str(escape(v)) for v in values[:-1]]  # one call
    assert escaped([]) == []
    # A value holding the separator is escaped on its own, not split.
    assert escaped(["x\x1fy", "<"]) == ["x\x1fy", "&lt;"]


def test_the_lab_form_fields_are_the_fields_one_by_one_with_the_form_and_its_errors():
    errors = {"values.platelets": "unknown unit 'x'"}
    form = {"values.platelets": "5 x", "limits.creatinine.uln": "100 µmol/L"}
    values = lab_value_fields([("white_cells", "6.2 10^9/L"), ("platelets", "")], errors, form)
    assert values == field(
        "values.white_cells", "white cells", errors, "", placeholder="6.2 10^9/L", size=12
    ) + field("values.platelets", "platelets", errors, "5 x", placeholder="", size=12)
    assert 'aria-invalid="true" aria-describedby="err-values.platelets"' in values
    limits = lab_limit_fields(
        [("platelets", "lln", "150 10^9/L"), ("creatinine", "uln", "90 µmol/L")], errors, form
    )
    assert limits == field(
        "limits.platelets.lln", "platelets LLN", errors, "150 10^9/L", size=10
    ) + field("limits.creatinine.uln", "creatinine ULN", errors, "100 µmol/L", size=10)
