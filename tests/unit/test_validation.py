"""One mapping from validation errors to the contract's 400 bodies (section 5)."""

from __future__ import annotations

from typing import Any

import pytest

from giftcard_connector.errors import ApiError
from giftcard_connector.giftcards.schemas import RedeemRequest
from giftcard_connector.http import validate
from giftcard_connector.operations.schemas import ACTION_NAMES, PaymentIntentRequest, parse_action
from giftcard_connector.validation import contract_error


def problem(model: Any, data: Any) -> tuple[str, str | None]:
    with pytest.raises(ApiError) as raised:
        validate(model, data, ACTION_NAMES)
    error = raised.value
    assert error.status_code == 400
    return error.code, error.fields.get("field")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ("RequiredField", "actions")),
        ({"actions": {}}, ("InvalidField", "actions")),
        ({"actions": []}, ("InvalidField", "actions")),
        ({"actions": [{"action": "cancelPayment"}] * 2}, ("InvalidField", "actions")),
        ({"actions": [{"action": "explodePayment"}]}, ("InvalidField", "actions.0.action")),
        ({"actions": [{}]}, ("RequiredField", "actions.0.action")),
        ({"actions": ["cancelPayment"]}, ("InvalidField", "actions.0")),
        ({"actions": [{"action": "capturePayment"}]}, ("RequiredField", "actions.0.amount")),
        (
            {"actions": [{"action": "refundPayment", "amount": {"centAmount": "1", "currencyCode": "EUR"}}]},
            ("InvalidField", "actions.0.amount.centAmount"),
        ),
        (
            {
                "actions": [
                    {"action": "refundPayment", "amount": {"centAmount": 1, "currencyCode": "EUR"}, "transactionId": 7}
                ]
            },
            ("InvalidField", "actions.0.transactionId"),
        ),
    ],
)
def test_payment_intent_bodies(data: dict[str, Any], expected: tuple[str, str]) -> None:
    assert problem(PaymentIntentRequest, data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"code": "x"}, ("RequiredField", "redeemAmount")),
        ({"code": 1, "redeemAmount": {"centAmount": 1, "currencyCode": "EUR"}}, ("InvalidField", "code")),
        (
            {"code": "x", "redeemAmount": {"centAmount": 1.5, "currencyCode": "EUR"}},
            ("InvalidField", "redeemAmount.centAmount"),
        ),
        (
            {"code": "x", "redeemAmount": {"centAmount": 1, "currencyCode": "eur"}},
            ("InvalidField", "redeemAmount.currencyCode"),
        ),
        ({"code": "x", "pin": 1234, "redeemAmount": {"centAmount": 1, "currencyCode": "EUR"}}, ("InvalidField", "pin")),
    ],
)
def test_redeem_bodies(data: dict[str, Any], expected: tuple[str, str]) -> None:
    assert problem(RedeemRequest, data) == expected


@pytest.mark.parametrize(
    ("errors", "code", "message"),
    [
        (
            [{"type": "json_invalid", "loc": ("body", 3), "msg": "JSON decode error"}],
            "InvalidJsonInput",
            "not valid JSON",
        ),
        ([{"type": "missing", "loc": ("body",), "msg": "Field required"}], "InvalidJsonInput", "empty"),
        ([{"type": "model_attributes_type", "loc": ("body",), "msg": "x"}], "InvalidJsonInput", "JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object(errors: list[dict[str, Any]], code: str, message: str) -> None:
    error = contract_error(errors)
    assert (error.status_code, error.code) == (400, code)
    assert message in error.message
    assert "field" not in error.fields


def test_a_path_parameter_is_named_as_in_the_url() -> None:
    error = contract_error([{"type": "string_pattern_mismatch", "loc": ("path", "paymentId"), "msg": "bad"}])
    assert (error.code, error.fields["field"]) == ("InvalidField", "paymentId")


def test_parse_action_returns_the_typed_action() -> None:
    action = parse_action(
        {"actions": [{"action": "capturePayment", "amount": {"centAmount": 5, "currencyCode": "EUR"}}]}
    )
    assert type(action).__name__ == "CapturePayment"
    assert action.amount.to_money().cent_amount == 5  # type: ignore[union-attr]
