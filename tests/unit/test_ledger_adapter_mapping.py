"""Pure mapping of ledger answers onto provider results (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from giftcard_connector.money import Money
from giftcard_connector.providers import ledger_mapping as wire
from giftcard_connector.providers.base import BalanceState, OperationStatus, ProviderUnavailable


def eur(cent_amount: int) -> dict[str, Any]:
    return {"centAmount": cent_amount, "currencyCode": "EUR"}


def error(code: str, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": f"{code} happened"}
    if details:
        body["details"] = details
    return {"error": body}


def card(available: int, currency: str = "EUR") -> dict[str, Any]:
    return {"card": {"available": {"centAmount": available, "currencyCode": currency}}}


def test_request_bodies_omit_an_empty_pin() -> None:
    assert wire.card_body("C", None) == {"code": "C"}
    assert wire.card_body("C", "") == {"code": "C"}
    assert wire.amount_body("C", "12", Money(5, "EUR")) == {
        "code": "C",
        "pin": "12",
        "amount": {"centAmount": 5, "currencyCode": "EUR"},
    }


def test_positive_available_balance_is_valid() -> None:
    result = wire.balance_result(200, card(2500, "JPY"))
    assert result.state is BalanceState.VALID
    assert result.amount == Money(2500, "JPY")


def test_zero_available_balance_is_zero_balance() -> None:
    result = wire.balance_result(200, card(0))
    assert result.state is BalanceState.ZERO_BALANCE
    assert result.amount == Money(0, "EUR")


@pytest.mark.parametrize(
    ("status", "body", "state"),
    [
        (404, error("not_found"), BalanceState.NOT_FOUND),
        (422, error("card_expired"), BalanceState.EXPIRED),
        (422, error("currency_mismatch", cardCurrency="USD"), BalanceState.CURRENCY_NOT_MATCH),
        (422, error("card_disabled"), BalanceState.GENERIC_ERROR),
        (422, error("something_new"), BalanceState.GENERIC_ERROR),
    ],
)
def test_balance_refusals_map_onto_contract_states(status: int, body: dict[str, Any], state: BalanceState) -> None:
    result = wire.balance_result(status, body)
    assert result.state is state
    assert result.amount is None


@pytest.mark.parametrize(
    ("status", "body", "state"),
    [
        (404, error("not_found"), BalanceState.NOT_FOUND),
        (422, error("card_expired"), BalanceState.EXPIRED),
        (422, error("currency_mismatch"), BalanceState.CURRENCY_NOT_MATCH),
        (
            422,
            error("insufficient_funds", available={"centAmount": 0, "currencyCode": "EUR"}),
            BalanceState.ZERO_BALANCE,
        ),
        (
            422,
            error("insufficient_funds", available={"centAmount": 5, "currencyCode": "EUR"}),
            BalanceState.GENERIC_ERROR,
        ),
        (422, error("refund_exceeds_redemption"), BalanceState.GENERIC_ERROR),
        (422, error("hold_expired"), BalanceState.GENERIC_ERROR),
        (422, error("invalid_request", field="amount"), BalanceState.GENERIC_ERROR),
        (400, error("invalid_json"), BalanceState.GENERIC_ERROR),
    ],
)
def test_operation_refusals_are_failures_with_a_reason(status: int, body: dict[str, Any], state: BalanceState) -> None:
    result = wire.operation_result(status, body)
    assert result.status is OperationStatus.FAILURE
    assert result.reason is state
    assert result.message


@pytest.mark.parametrize("code", ["hold_not_active", "hold_not_captured", "idempotency_key_reused"])
def test_a_conflict_does_not_say_whether_money_moved_so_it_is_pending(code: str) -> None:
    result = wire.operation_result(409, error(code))
    assert result.status is OperationStatus.PENDING
    assert result.reference is None


def test_status_of_an_unknown_key_is_none() -> None:
    assert wire.status_result(200, {"idempotencyKey": "k", "state": "unknown"}) is None


def test_status_of_a_success_carries_reference_and_amount() -> None:
    body = {"state": "succeeded", "statusCode": 201, "result": {"id": "red_1", "amount": eur(300)}}
    result = wire.status_result(200, body)
    assert result is not None and result.succeeded
    assert result.reference == "red_1"
    assert result.amount == Money(300, "EUR")


@pytest.mark.parametrize("code", ["insufficient_funds", "hold_not_active", "idempotency_key_reused"])
def test_status_of_a_stored_refusal_is_a_failure(code: str) -> None:
    body = {"state": "refused", "statusCode": 409 if code != "insufficient_funds" else 422, "result": error(code)}
    result = wire.status_result(200, body)
    assert result is not None and result.status is OperationStatus.FAILURE


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, {"state": "weird"}), (200, {"state": "succeeded"}), (200, []), (404, error("not_found"))],
)
def test_status_answers_that_say_nothing_are_unusable(status: int, body: Any) -> None:
    with pytest.raises(ProviderUnavailable):
        wire.status_result(status, body)


@pytest.mark.parametrize("status", [200, 201])
def test_success_carries_the_ledger_reference(status: int) -> None:
    result = wire.operation_result(status, {"id": "red_1", "amount": {}})
    assert result.succeeded and result.reference == "red_1"


@pytest.mark.parametrize("status", [401, 403, 408, 429, 500, 502, 503, 504, 302, 100])
def test_statuses_that_mean_the_provider_is_unusable(status: int) -> None:
    with pytest.raises(ProviderUnavailable):
        wire.operation_result(status, error("whatever"))
    with pytest.raises(ProviderUnavailable):
        wire.balance_result(status, error("whatever"))


@pytest.mark.parametrize(
    "body",
    [None, [], "text", {"error": "flat"}, {"error": {"message": "no code"}}],
)
def test_error_without_an_error_body_is_garbage(body: Any) -> None:
    with pytest.raises(ProviderUnavailable):
        wire.operation_result(422, body)


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"card": None},
        {"card": {"available": None}},
        {"card": {"available": {"centAmount": "5", "currencyCode": "EUR"}}},
        {"card": {"available": {"centAmount": 5.0, "currencyCode": "EUR"}}},
        {"card": {"available": {"centAmount": True, "currencyCode": "EUR"}}},
        {"card": {"available": {"centAmount": 5, "currencyCode": "euro"}}},
    ],
)
def test_malformed_balance_answers_are_garbage(body: Any) -> None:
    with pytest.raises(ProviderUnavailable):
        wire.balance_result(200, body)


@pytest.mark.parametrize("body", [None, {}, {"id": ""}, {"id": 5}, []])
def test_success_without_reference_is_garbage(body: Any) -> None:
    with pytest.raises(ProviderUnavailable):
        wire.operation_result(201, body)
