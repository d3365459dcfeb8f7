"""Amounts as an operator types and reads them: major units with the currency's own digits.

`50.00 EUR` is 5000 minor units, `5000 JPY` is 5000 (no minor unit), `1.250 KWD` is 1250. The digits
come from the ISO 4217 table (SIX's list, shipped by the `iso4217` package), so an unknown code such
as `XYZ`, or one without a minor unit such as gold (`XAU`), is refused.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import iso4217

from giftcard_connector.ledger.schemas import MAX_CENT_AMOUNT

_NUMBER = re.compile(r"^[+-]?(\d+)(\.(\d*))?$")


class AmountError(ValueError):
    """An amount or currency an operator typed that cannot be used; the message says why."""


def currency_digits(code: str) -> int:
    """Minor-unit digits of an ISO 4217 currency (EUR 2, JPY 0, KWD 3)."""
    try:
        currency = iso4217.Currency(code)
    except ValueError:
        raise AmountError(f"{code!r} is not an ISO 4217 currency code (for example EUR, USD, JPY)") from None
    if currency.exponent is None:
        raise AmountError(f"{code} has no minor unit (not a currency a gift card can hold)")
    return int(currency.exponent)


def check_currency(text: str) -> str:
    code = text.strip().upper()
    currency_digits(code)
    return code


def parse_amount(text: str, currency: str, *, minor: bool = False, signed: bool = False) -> int:
    """Minor units for `text`: major units with at most the currency's digits (`50`, `50.5`, `50.00`),
    or with `minor` a whole number of minor units. Zero and amounts past the ledger's limit are refused."""
    value = text.strip().replace("_", "")
    match = _NUMBER.match(value)
    if match is None:
        raise AmountError(f"{text!r} is not an amount (write it like 50.00)")
    if value.startswith("-") and not signed:
        raise AmountError("the amount must be positive")
    digits = currency_digits(currency)
    if minor:
        if match.group(2) is not None:
            raise AmountError("with --minor the amount is a whole number of minor units")
        cents = int(value)
    else:
        decimals = match.group(3) or ""
        if len(decimals) > digits:
            places = "no decimal places" if digits == 0 else f"{digits} decimal places"
            raise AmountError(f"{currency} has {places}; {text!r} has more")
        try:
            cents = int(Decimal(value).scaleb(digits))
        except InvalidOperation:
            raise AmountError(f"{text!r} is not an amount") from None
    if cents == 0:
        raise AmountError("the amount must not be zero")
    if abs(cents) > MAX_CENT_AMOUNT:
        raise AmountError(f"the amount is larger than the ledger's limit ({format_amount(MAX_CENT_AMOUNT, currency)})")
    return cents


def format_amount(cents: int, currency: str, *, minor: bool = False) -> str:
    """`50.00 EUR`, `5000 JPY`, `-0.05 EUR`; with `minor`: `5000 EUR` (minor units, for scripts)."""
    if minor:
        return f"{cents} {currency}"
    try:
        digits = currency_digits(currency)
    except AmountError:
        return f"{cents} {currency} (minor units)"
    if digits == 0:
        return f"{cents} {currency}"
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d} {currency}"
