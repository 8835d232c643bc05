"""Suite-wide settings: the shared fixtures of each backend and of the browser, and a
Hypothesis profile sized for a 2-core machine."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# one module per backend and one for the browser; each test folder mirrors a src package
pytest_plugins = ["tests.postgres", "tests.sqlite", "tests.backends", "tests.browser"]

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")
