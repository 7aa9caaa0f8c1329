"""Edge behaviour shared by every command: file reading and markup-free output."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from prrt.adapters.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_user_text_is_never_read_as_markup() -> None:
    """A closing tag in a value used to crash rich (MarkupError, exit 1); now exit 2 with it shown."""
    result = runner.invoke(app, ["decay", "7.4[/x]", "--nuclide", "Lu-177", "--after", "1 h"])
    assert result.exit_code == 2
    assert "[/x]" in result.stderr


def test_non_utf8_and_deeply_nested_json_exit_2(tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes("{}".encode("utf-16"))
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for args in (["evaluate", str(utf16)], ["dosimetry", "organ", str(utf16)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "not UTF-8" in result.stderr
    for args in (["evaluate", str(deep)], ["dosimetry", "organ", str(deep)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "nested too deeply" in result.stderr


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    case = tmp_path / "bom.json"
    text = (ROOT / "examples/cases/01_eligible_midgut_net_g2.json").read_text(encoding="utf-8")
    case.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = runner.invoke(app, ["evaluate", str(case)])
    assert result.exit_code == 0, result.output
    assert "VERDICT: ELIGIBLE" in result.stdout


def test_directory_instead_of_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dosimetry", "organ", str(tmp_path)])
    assert result.exit_code == 2
    assert "directory" in result.stderr
