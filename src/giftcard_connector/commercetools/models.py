"""Typed views of commercetools answers: only the fields the connector reads, the rest ignored.

commercetools adds fields over time; `extra="ignore"` keeps an answer with new fields valid, and a field
we read that has the wrong shape fails in one place with a pydantic error instead of a KeyError deep in
a flow.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Reference(_Answer):
    id: str | None = None


class ActiveCart(_Answer):
    cartRef: Reference | None = None


class CheckoutSession(_Answer):
    """`GET {CTP_SESSION_URL}/{projectKey}/sessions/{id}` (contract section 3)."""

    id: str | None = None
    state: str | None = None
    activeCart: ActiveCart | None = None
    # Free-form (paymentInterface, processorUrl, futureOrderNumber, correlationId, ...), set by the shop.
    metadata: dict[str, Any] = {}

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: object) -> object:
        # A session whose metadata is not an object is still a session: it just has none we can use.
        return value if isinstance(value, dict) else {}

    @property
    def cart_id(self) -> str | None:
        cart = self.activeCart.cartRef if self.activeCart else None
        return cart.id if cart and cart.id else None

    @property
    def usable(self) -> bool:
        """Contract 3: active, and with a cart (whose id comes from here, never from the request)."""
        return self.state == "ACTIVE" and self.cart_id is not None
