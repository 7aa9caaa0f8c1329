"""``prrt serve`` refuses a bad concurrency bound before it starts anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from prrt.adapters.api.settings import Settings
from prrt.adapters.cli.app import app
from prrt.adapters.cli.service_cmds import requests_at_once

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


@pytest.mark.parametrize(
    ("workers", "given", "used"),
    [(1, None, None), (2, None, 1), (4, None, 1), (2, 3, 3), (1, 1, 1)],
)
def test_several_workers_serve_one_request_at_a_time_unless_told(workers, given, used):
    # None: the settings' default (2) for one worker.
    assert requests_at_once(workers, given) == used
