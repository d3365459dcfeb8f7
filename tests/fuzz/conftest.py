"""Fuzz settings: a bounded run inside the normal test run, a longer one on request.

FUZZ_EXAMPLES sets the number of examples per fuzz test (default 25, inside `make test`); for a long
run: `FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/fuzz -p no:logging`. No example database is written
into the tree; a failure prints the smallest failing example and a reproduction blob.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.support.emulator_fixture import emulator

settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,  # shared CI cores: time per example is not what these tests are about
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FUZZ = settings.get_profile("fuzz")

__all__ = ["FUZZ", "emulator"]
