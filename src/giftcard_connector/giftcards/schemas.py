"""Request bodies of /balance and /redeem."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from giftcard_connector.money import Money

CurrencyCode = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
CardCode = Annotated[StrictStr, Field(min_length=1, max_length=128)]
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
    def clean_pin(self) -> str | None:
        return self.pin.strip() or None if self.pin is not None else None


class RedeemRequest(BalanceRequest):
    redeemAmount: MoneyIn
