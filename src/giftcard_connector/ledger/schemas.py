"""Request bodies of the ledger API. Strict: a string is not a number, a float is not an amount."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from giftcard_connector.money import Money

MAX_CENT_AMOUNT = 10**12  # far above any gift card; keeps sums inside BIGINT

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# No maximum: a code longer than any real one is simply unknown (404 not_found, like any unknown code),
# not a validation error a caller could tell apart. The request body cap bounds the length.
Code = Annotated[str, StringConstraints(min_length=1)]
PinInput = Annotated[str, StringConstraints(min_length=1, max_length=64)]
NewPin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,12}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)


class PositiveMoney(_Strict):
    cent_amount: int = Field(alias="centAmount", gt=0, le=MAX_CENT_AMOUNT)
    currency_code: CurrencyCode = Field(alias="currencyCode")

    def money(self) -> Money:
        return Money(self.cent_amount, self.currency_code)


class NonNegativeMoney(PositiveMoney):
    cent_amount: int = Field(alias="centAmount", ge=0, le=MAX_CENT_AMOUNT)


class SignedMoney(PositiveMoney):
    cent_amount: int = Field(alias="centAmount", ge=-MAX_CENT_AMOUNT, le=MAX_CENT_AMOUNT)


class CardCredentials(_Strict):
    code: Code
    pin: PinInput | None = None


class AmountOnCard(CardCredentials):
    amount: PositiveMoney


class OptionalAmount(_Strict):
    amount: PositiveMoney | None = None


class Amount(_Strict):
    amount: PositiveMoney


class IssueRequest(_Strict):
    amount: NonNegativeMoney
    pin: NewPin | None = None
    # The last day on which the card can be used (UTC), e.g. "2027-12-31".
    expires_at: dt.date | None = Field(default=None, alias="expiresAt", strict=False)
    count: int = Field(default=1, ge=1, le=1000)


class CardCode(_Strict):
    code: Code


class Reload(CardCode):
    amount: PositiveMoney


class Adjust(CardCode):
    amount: SignedMoney
    note: Annotated[str, StringConstraints(max_length=200)] | None = None
