"""Test configuration shared by the whole suite."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Property tests are derandomized by default (style guide §8), so that the README's test
# command and CI give the same verdict on every run.  `PRRT_HYPOTHESIS_PROFILE=explore`
# draws new random examples each run, to hunt for counterexamples during development.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
settings.register_profile(
    "explore", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("PRRT_HYPOTHESIS_PROFILE", "ci"))
