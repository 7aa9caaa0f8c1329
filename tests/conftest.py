"""Test configuration shared by the whole suite."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Deterministic property tests in CI (style guide §8: derandomized CI profile).
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
