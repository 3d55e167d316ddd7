"""The hypothesis profiles of the property tests, in one place.

``quick`` (the default) keeps ``make test`` short and repeatable: few examples,
derandomised, no example database. ``HRKG_LONG_TESTS=1`` (``make fuzz``) switches to
``long``: many random examples, with the blob to reproduce a failure printed.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

LONG = os.environ.get("HRKG_LONG_TESTS") == "1"
_SHARED = {
    "database": None,
    "deadline": timedelta(seconds=10),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("quick", max_examples=20, derandomize=True, **_SHARED)
settings.register_profile("long", max_examples=1000, derandomize=False, print_blob=True, **_SHARED)
if LONG:
    settings.load_profile("long")
#: The profile in force, for tests that scale their own example counts from it.
PROFILE = settings.get_profile("long" if LONG else "quick")
