"""Pure mapping between the built-in ledger's wire format and the provider result types.

No I/O here, so every answer the ledger can give is unit-tested without a network.
Rules: 2xx is success; a 4xx carrying a ledger error body is a business refusal (FAILURE with the
contract state that explains it); 401/403 (bad API key), 408, 429, 5xx and anything unparseable
mean the provider is unusable (ProviderUnavailable).
"""

from __future__ import annotations

from typing import Any

from giftcard_connector.money import Money, is_currency_code
from giftcard_connector.providers.base import (
    BalanceResult,
    BalanceState,
    OperationResult,
    OperationStatus,
    ProviderUnavailable,
)

_UNAVAILABLE_STATUSES = frozenset({401, 403, 408, 429})

# Ledger error code -> contract state. Codes not listed are GenericError.
_REASONS = {
    "not_found": BalanceState.NOT_FOUND,
    "card_expired": BalanceState.EXPIRED,
    "currency_mismatch": BalanceState.CURRENCY_NOT_MATCH,
}


def card_body(code: str, pin: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code}
    if pin:
        body["pin"] = pin
    return body


def amount_body(code: str, pin: str | None, amount: Money) -> dict[str, Any]:
    return card_body(code, pin) | {"amount": amount.to_json()}


def money_from_wire(value: Any) -> Money:
    if not isinstance(value, dict):
        raise ProviderUnavailable("ledger answered without an amount")
    cent_amount = value.get("centAmount")
    currency = value.get("currencyCode")
    if type(cent_amount) is not int or not isinstance(currency, str) or not is_currency_code(currency):
        raise ProviderUnavailable("ledger answered with a malformed amount")
    return Money(cent_amount, currency)


def _error(body: Any) -> tuple[str, str, dict[str, Any]]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise ProviderUnavailable("ledger answered an error without an error body")
    details = error.get("details")
    return error["code"], str(error.get("message") or error["code"]), details if isinstance(details, dict) else {}


def reason_for(code: str, details: dict[str, Any]) -> BalanceState:
    if code == "insufficient_funds":
        available = details.get("available")
        if isinstance(available, dict) and available.get("centAmount") == 0:
            return BalanceState.ZERO_BALANCE
        return BalanceState.GENERIC_ERROR
    return _REASONS.get(code, BalanceState.GENERIC_ERROR)


def check_usable(status: int) -> None:
    if status in _UNAVAILABLE_STATUSES or status >= 500:
        raise ProviderUnavailable(f"ledger answered HTTP {status}")
    if status < 200 or 300 <= status < 400:
        raise ProviderUnavailable(f"ledger answered unexpected HTTP {status}")


def balance_result(status: int, body: Any) -> BalanceResult:
    check_usable(status)
    if status >= 400:
        code, message, details = _error(body)
        return BalanceResult(reason_for(code, details), message=message)
    card = body.get("card") if isinstance(body, dict) else None
    if not isinstance(card, dict):
        raise ProviderUnavailable("ledger balance answer has no card")
    available = money_from_wire(card.get("available"))
    if available.cent_amount <= 0:
        return BalanceResult(BalanceState.ZERO_BALANCE, available, "card balance is zero")
    return BalanceResult(BalanceState.VALID, available)


def operation_result(status: int, body: Any) -> OperationResult:
    check_usable(status)
    if status >= 400:
        code, message, details = _error(body)
        return OperationResult(OperationStatus.FAILURE, reason=reason_for(code, details), message=message)
    reference = body.get("id") if isinstance(body, dict) else None
    if not isinstance(reference, str) or not reference:
        raise ProviderUnavailable("ledger answer has no reference")
    return OperationResult(OperationStatus.SUCCESS, reference=reference)
