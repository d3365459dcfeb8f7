"""Small helpers that drive the Processor over HTTP the way the Enabler and Checkout do."""

from __future__ import annotations

from typing import Any

import httpx

from giftcard_devkit.emulator import Emulator


def new_session(
    emulator: Emulator, total: int = 10000, currency: str = "EUR", metadata: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str]:
    cart = emulator.create_cart(total, currency)
    session_id = emulator.create_session(cart["id"], metadata or {"paymentInterface": "giftcard-test"})
    return cart, session_id


def money(cent_amount: int, currency: str = "EUR") -> dict[str, Any]:
    return {"centAmount": cent_amount, "currencyCode": currency}


def balance(api: httpx.Client, session_id: str, code: str, **extra: Any) -> httpx.Response:
    return api.post("/balance", json={"code": code, **extra}, headers={"X-Session-Id": session_id})


def redeem(api: httpx.Client, session_id: str, code: str, cent_amount: int, currency: str = "EUR") -> httpx.Response:
    body = {"code": code, "redeemAmount": money(cent_amount, currency)}
    return api.post("/redeem", json=body, headers={"X-Session-Id": session_id})


def intent(api: httpx.Client, emulator: Emulator, payment_id: str, action: dict[str, Any]) -> httpx.Response:
    token = emulator.mint_token(scope=f"manage_checkout_payment_intents:{emulator.project_key}")
    return api.post(
        f"/operations/payment-intents/{payment_id}",
        json={"actions": [action]},
        headers={"Authorization": f"Bearer {token}"},
    )


def cart_payments(emulator: Emulator, cart_id: str) -> list[dict[str, Any]]:
    cart = emulator.get_cart(cart_id, expand=True)
    return [ref["obj"] for ref in (cart.get("paymentInfo") or {}).get("payments", [])]


def transactions(payment: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [t for t in payment.get("transactions", []) if kind is None or t["type"] == kind]
