"""The pages' form widgets: exact markup, escaping, and a refused value marked on its field."""

from __future__ import annotations

from types import SimpleNamespace

from markupsafe import Markup

from prrt.adapters.web.widgets import csrf, field, select


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
