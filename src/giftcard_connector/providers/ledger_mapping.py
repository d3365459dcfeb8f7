"""Pure mapping between the built-in ledger's wire format and the provider result types.

No I/O here, so every answer the ledger can give is unit-tested without a network.
Rules: 2xx is success; a 4xx carrying a ledger error body is a business refusal (FAILURE with the
contract state that explains it), except 409: the ledger answers 409 when the key was already used
for another request or the hold is no longer in the state the call needs, which does not say whether
money moved under this key, so it is PENDING (settled later by status). 401/403 (bad API key), 408,
429, 5xx and anything unparseable mean the provider is unusable (ProviderUnavailable).
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
    if status == 409:
        code, _, _ = _error(body)
        return OperationResult(OperationStatus.PENDING, message=f"ledger conflict: {code}")
    return _settled_result(status, body)


def _settled_result(status: int, body: Any) -> OperationResult:
    if status >= 400:
        code, message, details = _error(body)
        return OperationResult(OperationStatus.FAILURE, reason=reason_for(code, details), message=message)
    reference = body.get("id") if isinstance(body, dict) else None
    if not isinstance(reference, str) or not reference:
        raise ProviderUnavailable("ledger answer has no reference")
    return OperationResult(OperationStatus.SUCCESS, reference=reference, amount=_optional_money(body.get("amount")))


def _optional_money(value: Any) -> Money | None:
    """The amount a success names, when it names one (a void answers the hold, with its amount)."""
    try:
        return money_from_wire(value)
    except ProviderUnavailable:
        return None


def status_result(status: int, body: Any) -> OperationResult | None:
    """GET /v1/operations: `unknown` -> None (the ledger never committed a change with that key);
    otherwise the stored answer, read like a live one. A stored 409 is a refusal here: under this
    key nothing moved, and a repeat with the key gets the same stored answer."""
    check_usable(status)
    if status != 200 or not isinstance(body, dict):
        raise ProviderUnavailable(f"ledger operation status answered HTTP {status}")
    state = body.get("state")
    if state == "unknown":
        return None
    stored_status = body.get("statusCode")
    if state not in ("succeeded", "refused") or type(stored_status) is not int:
        raise ProviderUnavailable("ledger operation status is malformed")
    return _settled_result(stored_status, body.get("result"))
