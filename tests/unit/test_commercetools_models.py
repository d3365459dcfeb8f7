"""Typed views of commercetools answers read only what the connector uses, and tolerate the rest."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from giftcard_connector.commercetools.models import CheckoutSession

ACTIVE = {
    "id": "s-1",
    "state": "ACTIVE",
    "activeCart": {"cartRef": {"id": "cart-1", "typeId": "cart"}},
    "metadata": {"paymentInterface": "my-giftcards", "correlationId": "c-1"},
    "lastModifiedAt": "2026-11-28T10:00:00.000Z",  # not read: ignored
    "somethingNew": {"nested": [1, 2]},
}


def test_an_active_session_with_a_cart_is_usable_and_extra_fields_are_ignored() -> None:
    session = CheckoutSession.model_validate(ACTIVE)
    assert session.usable and session.cart_id == "cart-1"
    assert session.metadata["paymentInterface"] == "my-giftcards"


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "EXPIRED"},
        {"activeCart": None},
        {"activeCart": {"cartRef": {}}},
        {"activeCart": {"cartRef": {"id": ""}}},
    ],
    ids=["expired", "no-cart", "no-cart-ref", "empty-cart-id"],
)
def test_not_usable(changes: dict[str, object]) -> None:
    assert not CheckoutSession.model_validate({**ACTIVE, **changes}).usable


def test_metadata_that_is_not_an_object_counts_as_none() -> None:
    session = CheckoutSession.model_validate({**ACTIVE, "metadata": ["x"]})
    assert session.usable and session.metadata == {}


def test_a_field_we_read_with_the_wrong_shape_fails_in_one_place() -> None:
    with pytest.raises(ValidationError):
        CheckoutSession.model_validate({**ACTIVE, "activeCart": {"cartRef": {"id": 7}}})
