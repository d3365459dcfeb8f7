"""Money as integer minor units plus an ISO 4217 code; never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")

# Minor-unit digits that differ from the usual 2 (ISO 4217).
_FRACTION_DIGITS = {
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}


def fraction_digits(currency_code: str) -> int:
    return _FRACTION_DIGITS.get(currency_code, 2)


def is_currency_code(value: str) -> bool:
    return bool(_CURRENCY_PATTERN.match(value))


@dataclass(frozen=True, slots=True)
class Money:
    cent_amount: int
    currency_code: str

    def to_json(self) -> dict[str, Any]:
        return {"centAmount": self.cent_amount, "currencyCode": self.currency_code}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Money:
        return cls(int(data["centAmount"]), str(data["currencyCode"]))

    def __str__(self) -> str:
        return f"{self.cent_amount} {self.currency_code} (minor units)"
