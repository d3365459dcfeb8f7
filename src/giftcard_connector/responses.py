"""Response bodies as pydantic models: they make /openapi.json describe what the routes answer.

The routes still build plain dicts (cheap); FastAPI checks them against these models on the way out.
Error bodies (contract section 5) are documented per route through `responses=`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from giftcard_connector.providers.base import BalanceState

# -- shared ------------------------------------------------------------------------------------------


class MoneyOut(BaseModel):
    centAmount: int
    currencyCode: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # InvalidField and friends add `field` and more

    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """The general error body (contract section 5)."""

    message: str
    statusCode: int
    errors: list[ErrorDetail]


class AuthErrorBody(ErrorBody):
    """401 with the OAuth-style top-level fields."""

    error: str
    error_description: str


# -- gift cards --------------------------------------------------------------------------------------


class GiftCardErrorItem(BaseModel):
    code: BalanceState
    message: str


class BalanceStatus(BaseModel):
    state: BalanceState
    errors: list[GiftCardErrorItem] | None = None


class BalanceResponse(BaseModel):
    """The Enabler's BalanceType. A 200 is always `Valid` with an amount; the other states come as 4xx."""

    status: BalanceStatus
    amount: MoneyOut | None = None


class GiftCardErrorBody(BaseModel):
    """A gift card outcome that is not a success (NotFound 404; Expired, ZeroBalance, ... 400)."""

    status: BalanceStatus


class RedeemResponse(BaseModel):
    result: Literal["Success", "Failure"]
    paymentReference: str
    redemptionId: str | None


class EnablerConfigResponse(BaseModel):
    pinRequired: bool
    pinSupported: bool


# -- operations --------------------------------------------------------------------------------------


class PaymentIntentResponse(BaseModel):
    outcome: Literal["approved", "rejected", "received"]


class StatusCheck(BaseModel):
    name: str
    status: Literal["UP", "DOWN"]
    message: str | None = None
    details: dict[str, Any] | None = None


class StatusResponse(BaseModel):
    timestamp: str
    version: str
    metadata: dict[str, Any]
    status: Literal["OK", "Partially Available", "Unavailable"]
    checks: list[StatusCheck]


# -- probes ------------------------------------------------------------------------------------------


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadinessCheck(BaseModel):
    name: str
    status: Literal["UP", "DOWN"]
    message: str | None = None


class ReadinessResponse(BaseModel):
    status: Literal["ready", "not ready"]
    checks: list[ReadinessCheck]


# `responses=` entries, so each route documents the error bodies it can answer.
INVALID_INPUT: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody, "description": "Invalid request body"}}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"model": AuthErrorBody, "description": "Not authenticated"}}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": GiftCardErrorBody, "description": "Too many attempts (Retry-After says when to try again)"}
}
UPSTREAM_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorBody, "description": "commercetools refused the connector's credentials"},
    503: {"model": ErrorBody, "description": "commercetools, the provider or token introspection is unavailable"},
}
