"""``prrt serve`` refuses a bad concurrency bound before it starts anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from prrt.adapters.api.settings import Settings
from prrt.adapters.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize("value", ["0", "257", "two"])
def test_a_max_active_outside_1_to_256_exits_2_naming_the_option(value, tmp_path):
    result = runner.invoke(
        app,
        ["serve", "--data-dir", str(tmp_path), "--max-active", value],
        env={"COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert result.exit_code == 2
    assert "--max-active" in result.output
    assert not any(tmp_path.iterdir())  # nothing created, nothing started


def test_the_default_bound_is_the_settings_default():
    # 2: measured best of 1-3 per worker on 2 cores without letting one long request
    # hold up a worker (docs/service.md, Performance).
    assert Settings().max_active_requests == 2
