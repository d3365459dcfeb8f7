"""The mock provider of contract section 6: the template's codes, for contract tests.

Its only memory is the answer given per idempotency key (in this process, bounded), so a repeated
call answers what the first one did and `status(key)` can say what happened; card balances are not
tracked: it is for contract tests, not for money."""

from __future__ import annotations

import re
import uuid
from collections import OrderedDict

from giftcard_connector.money import Money
from giftcard_connector.providers.base import (
    BalanceResult,
    BalanceState,
    GiftCardProvider,
    HealthResult,
    OperationResult,
    OperationStatus,
)

_VALID = re.compile(r"^Valid-(?P<amount>\d+)-(?P<currency>[A-Z]{3})$")
_REFERENCE_PREFIX = "mock-"
# Answers remembered per idempotency key; the oldest are forgotten beyond this many.
MAX_REMEMBERED_KEYS = 100_000

_MESSAGES = {
    BalanceState.NOT_FOUND: "The gift card was not found",
    BalanceState.EXPIRED: "The gift card has expired",
    BalanceState.ZERO_BALANCE: "The gift card has no balance left",
    BalanceState.CURRENCY_NOT_MATCH: "The gift card's currency does not match",
    BalanceState.GENERIC_ERROR: "The gift card cannot be used",
}


def _failure(state: BalanceState) -> OperationResult:
    return OperationResult(OperationStatus.FAILURE, reason=state, message=_MESSAGES[state])


class MockProvider(GiftCardProvider):
    name = "mock-giftcard-provider"
    requires_pin = False

    def __init__(self, currency: str | None = None) -> None:
        self._currency = currency
        self._answers: OrderedDict[str, OperationResult] = OrderedDict()

    def _remember(self, idempotency_key: str, result: OperationResult) -> OperationResult:
        """The first answer for a key is the answer for every repeat of it."""
        known = self._answers.get(idempotency_key)
        if known is not None:
            return known
        self._answers[idempotency_key] = result
        if len(self._answers) > MAX_REMEMBERED_KEYS:
            self._answers.popitem(last=False)
        return result

    def _parse(self, code: str) -> BalanceResult:
        match = _VALID.match(code)
        if match is None:
            state = {"Expired": BalanceState.EXPIRED, "NotFound": BalanceState.NOT_FOUND}.get(
                code, BalanceState.GENERIC_ERROR
            )
            return BalanceResult(state, message=_MESSAGES[state])
        digits, currency = match["amount"], match["currency"]
        amount = Money(int(digits), currency)
        if self._currency is not None and currency != self._currency:
            return BalanceResult(BalanceState.CURRENCY_NOT_MATCH, amount, _MESSAGES[BalanceState.CURRENCY_NOT_MATCH])
        if amount.cent_amount == 0:
            return BalanceResult(BalanceState.ZERO_BALANCE, amount, _MESSAGES[BalanceState.ZERO_BALANCE])
        return BalanceResult(BalanceState.VALID, amount)

    async def balance(self, code: str, pin: str | None) -> BalanceResult:
        return self._parse(code)

    def _debit(self, code: str, amount: Money, kind: str) -> OperationResult:
        result = self._debit_result(code, amount, kind)
        return result if not result.succeeded else OperationResult(result.status, result.reference, amount=amount)

    def _debit_result(self, code: str, amount: Money, kind: str) -> OperationResult:
        balance = self._parse(code)
        if balance.state is not BalanceState.VALID or balance.amount is None:
            return _failure(balance.state)
        match = _VALID.match(code)
        assert match is not None  # VALID implies the pattern matched
        if match["amount"].startswith("00"):
            # `Valid-00<amount>-<currency>` reports a balance but its redemption fails as expired.
            return _failure(BalanceState.EXPIRED)
        if amount.currency_code != balance.amount.currency_code:
            return _failure(BalanceState.CURRENCY_NOT_MATCH)
        if amount.cent_amount > balance.amount.cent_amount:
            return OperationResult(
                OperationStatus.FAILURE, reason=BalanceState.GENERIC_ERROR, message="Insufficient balance"
            )
        return OperationResult(OperationStatus.SUCCESS, reference=f"{_REFERENCE_PREFIX}{kind}-{uuid.uuid4()}")

    async def redeem(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        if idempotency_key in self._answers:
            return self._answers[idempotency_key]
        return self._remember(idempotency_key, self._debit(code, amount, "redemption"))

    async def authorize(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        if idempotency_key in self._answers:
            return self._answers[idempotency_key]
        return self._remember(idempotency_key, self._debit(code, amount, "hold"))

    def _follow_up(self, reference: str, kind: str, idempotency_key: str, amount: Money | None) -> OperationResult:
        if idempotency_key in self._answers:
            return self._answers[idempotency_key]
        if not reference.startswith(_REFERENCE_PREFIX):
            return self._remember(
                idempotency_key,
                OperationResult(
                    OperationStatus.FAILURE,
                    reason=BalanceState.GENERIC_ERROR,
                    message="The mock provider did not issue this reference",
                ),
            )
        reference = f"{_REFERENCE_PREFIX}{kind}-{uuid.uuid4()}"
        return self._remember(idempotency_key, OperationResult(OperationStatus.SUCCESS, reference, amount=amount))

    async def capture(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        return self._follow_up(reference, "capture", idempotency_key, amount)

    async def void(self, reference: str, idempotency_key: str) -> OperationResult:
        return self._follow_up(reference, "void", idempotency_key, None)

    async def refund(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        return self._follow_up(reference, "refund", idempotency_key, amount)

    async def status(self, idempotency_key: str) -> OperationResult | None:
        return self._answers.get(idempotency_key)

    async def health(self) -> HealthResult:
        return HealthResult(up=True, details={"provider": "mock"})
