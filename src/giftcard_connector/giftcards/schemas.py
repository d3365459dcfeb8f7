"""Request bodies of /balance and /redeem."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from giftcard_connector.money import Money

CurrencyCode = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
# Longer than any real card code (the built-in ledger's have 24 characters with separators): such a
# code cannot exist and answers NotFound like any unknown code, not a validation error.
MAX_CODE_LENGTH = 128
UNKNOWN_CARD_MESSAGE = "The gift card was not found"
CardCode = Annotated[StrictStr, Field(min_length=1)]  # the request body cap bounds it
Pin = Annotated[StrictStr, Field(max_length=32)]


class MoneyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    centAmount: StrictInt
    currencyCode: CurrencyCode

    def to_money(self) -> Money:
        return Money(self.centAmount, self.currencyCode)


class BalanceRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: CardCode
    pin: Pin | None = None

    @property
    def clean_code(self) -> str:
        return self.code.strip()

    @property
    def code_can_exist(self) -> bool:
        code = self.clean_code
        return 0 < len(code) <= MAX_CODE_LENGTH and code.isprintable()

    @property
    def clean_pin(self) -> str | None:
        return self.pin.strip() or None if self.pin is not None else None


class RedeemRequest(BalanceRequest):
    redeemAmount: MoneyIn
