"""Request body of POST /operations/payment-intents/{paymentId}: exactly one action."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from giftcard_connector.errors import InvalidField, RequiredField
from giftcard_connector.giftcards.schemas import MoneyIn
from giftcard_connector.http import validate

MerchantReference = Annotated[StrictStr, Field(max_length=256)]


class CapturePayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["capturePayment"]
    amount: MoneyIn
    merchantReference: MerchantReference | None = None


class RefundPayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["refundPayment"]
    amount: MoneyIn
    transactionId: StrictStr | None = None
    merchantReference: MerchantReference | None = None


class CancelPayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["cancelPayment"]
    merchantReference: MerchantReference | None = None


class ReversePayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["reversePayment"]
    merchantReference: MerchantReference | None = None


PaymentAction = CapturePayment | RefundPayment | CancelPayment | ReversePayment
_ACTIONS: dict[str, type[BaseModel]] = {
    "capturePayment": CapturePayment,
    "refundPayment": RefundPayment,
    "cancelPayment": CancelPayment,
    "reversePayment": ReversePayment,
}


def parse_action(body: dict[str, Any]) -> PaymentAction:
    if "actions" not in body:
        raise RequiredField("actions")
    actions = body["actions"]
    if not isinstance(actions, list):
        raise InvalidField("actions", "'actions' must be a list with exactly one action")
    if len(actions) != 1:
        raise InvalidField("actions", f"'actions' must hold exactly one action, not {len(actions)}")
    action = actions[0]
    if not isinstance(action, dict):
        raise InvalidField("actions.0", "An action must be a JSON object")
    name = action.get("action")
    if name is None:
        raise RequiredField("actions.0.action")
    model = _ACTIONS.get(name) if isinstance(name, str) else None
    if model is None:
        raise InvalidField(
            "actions.0.action",
            f"Unknown action {name!r}; expected one of {', '.join(_ACTIONS)}",
        )
    try:
        parsed = validate(model, action)
    except InvalidField as error:
        raise InvalidField(f"actions.0.{error.fields['field']}", error.message) from None
    except RequiredField as error:
        raise RequiredField(f"actions.0.{error.fields['field']}") from None
    assert isinstance(parsed, CapturePayment | RefundPayment | CancelPayment | ReversePayment)
    return parsed
