"""Suite-wide setup.

Every Processor the tests start inherits this environment: rate limits stay on (the code path runs in
every flow test) but with budgets no flow test reaches, since they all come from 127.0.0.1 and reuse
card codes. tests/integration/test_rate_limits.py starts its Processors with small budgets of its own.
"""

from __future__ import annotations

import os

GENEROUS_RATE_LIMITS = {
    "RATE_LIMIT_BALANCE_PER_SESSION": "100000/minute",
    "RATE_LIMIT_BALANCE_PER_ADDRESS": "100000/minute",
    "RATE_LIMIT_REDEEM_PER_SESSION": "100000/minute",
    "RATE_LIMIT_REDEEM_PER_ADDRESS": "100000/minute",
    "RATE_LIMIT_WRONG_TRIES_PER_CARD": "100000/hour",
}
for _name, _value in GENEROUS_RATE_LIMITS.items():
    os.environ.setdefault(_name, _value)
