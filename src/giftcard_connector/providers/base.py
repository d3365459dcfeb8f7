"""The provider interface: what the Processor needs from any gift card provider.

Results are typed so that they map cleanly onto the contract:
- balance checks onto the six BalanceType states;
- money movements onto approved (SUCCESS), rejected (FAILURE) or received (PENDING).
Adapters never raise for a business refusal: they return a FAILURE result with the
BalanceState that explains it. FAILURE means "definitely refused, nothing moved". An answer that
does not say what happened (a 409 about the key or the object's state) is PENDING. They raise
ProviderUnavailable only when the provider could not be reached or answered something unusable
(timeouts, 5xx, garbage): the caller treats that as an unknown outcome too, never as a refusal.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from giftcard_connector.money import Money


class BalanceState(StrEnum):
    VALID = "Valid"
    NOT_FOUND = "NotFound"
    EXPIRED = "Expired"
    CURRENCY_NOT_MATCH = "CurrencyNotMatch"
    ZERO_BALANCE = "ZeroBalance"
    GENERIC_ERROR = "GenericError"


class OperationStatus(StrEnum):
    SUCCESS = "Success"  # money moved (or hold placed / released)
    FAILURE = "Failure"  # provider refused; nothing moved
    PENDING = "Pending"  # not known (yet) whether money moved: settle later with status(key)


@dataclass(frozen=True, slots=True)
class BalanceResult:
    state: BalanceState
    amount: Money | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class OperationResult:
    status: OperationStatus
    # The provider's reference for this movement (redemption / hold / refund id).
    reference: str | None = None
    # Why a FAILURE happened, in the contract's vocabulary (Expired, ZeroBalance, ...).
    reason: BalanceState | None = None
    message: str | None = None
    # What moved, when the provider says (status answers carry it).
    amount: Money | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is OperationStatus.SUCCESS


@dataclass(frozen=True, slots=True)
class HealthResult:
    up: bool
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class ProviderUnavailable(Exception):
    """The provider could not be reached, timed out or answered something unusable."""


class GiftCardProvider(abc.ABC):
    """One gift card provider. Every money-moving call carries an idempotency key that names
    the intended operation (derived from the commercetools payment id and the operation), so a
    retry never moves money twice."""

    name: str = "provider"
    # Whether cards of this provider carry a PIN the shopper must type (the Enabler shows the field).
    requires_pin: bool = False
    # Whether cards may carry a PIN (the Enabler then shows an optional PIN field).
    supports_pin: bool = False

    @abc.abstractmethod
    async def balance(self, code: str, pin: str | None) -> BalanceResult: ...

    @abc.abstractmethod
    async def redeem(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        """Debit the card at once (direct charge)."""

    @abc.abstractmethod
    async def authorize(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        """Place a hold for `amount`; the reference names the hold."""

    @abc.abstractmethod
    async def capture(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        """Turn (part of) a hold into a debit."""

    @abc.abstractmethod
    async def void(self, reference: str, idempotency_key: str) -> OperationResult:
        """Release a hold."""

    @abc.abstractmethod
    async def refund(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        """Credit back (part of) what the redemption `reference` debited."""

    async def status(self, idempotency_key: str) -> OperationResult | None:
        """What became of the money-moving call sent with this idempotency key: SUCCESS (with the
        reference and amount), FAILURE (refused: nothing moved), or None when the provider never
        received a call with this key. Raises ProviderUnavailable when it cannot tell now.
        Unknown outcomes are settled only from this answer, never by guessing (contract section 9)."""
        raise ProviderUnavailable(f"{self.name} cannot report what happened to an operation")

    @abc.abstractmethod
    async def health(self) -> HealthResult: ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections; default: nothing to release."""
