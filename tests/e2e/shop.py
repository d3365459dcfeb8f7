"""Driving the demo shop page (selectors from devkit/demo and the Enabler's documented DOM)."""

from __future__ import annotations

from typing import Any

from giftcard_devkit.demo_stack import DemoCard, DemoStack

CODE = "[data-testid=giftcard-code]"
PIN = "[data-testid=giftcard-pin]"
CODE_ERROR = "[data-testid=giftcard-code-error]"
MESSAGES = {  # copied from enabler/src/i18n.ts: the page must show exactly the translated text
    "en": {
        "NotFound": "No gift card was found with these details. Please check your entry.",
        "Expired": "This gift card has expired.",
        "CurrencyNotMatch": "The currency of this gift card does not match the currency of your cart.",
        "ZeroBalance": "This gift card has no remaining balance.",
        "NotFoundPinHint": "No gift card was found with these details. If your card has a PIN, enter it as well.",
    },
    "de": {
        "NotFound": "Zu diesen Angaben wurde keine Geschenkkarte gefunden. Bitte überprüfen Sie Ihre Eingabe.",
        "Expired": "Diese Geschenkkarte ist abgelaufen.",
        "CurrencyNotMatch": "Die Währung dieser Geschenkkarte stimmt nicht mit der Währung Ihres Warenkorbs überein.",
        "ZeroBalance": "Diese Geschenkkarte hat kein Guthaben mehr.",
        "NotFoundPinHint": (
            "Zu diesen Angaben wurde keine Geschenkkarte gefunden. "
            "Wenn Ihre Karte eine PIN hat, geben Sie sie bitte ebenfalls ein."
        ),
    },
}


def open_shop(page: Any, stack: DemoStack, locale: str = "en", host: str = "127.0.0.1") -> str:
    """Loads the shop (a new cart and session); returns the cart id."""
    url = stack.shop_url.replace("127.0.0.1", host)
    page.goto(f"{url}/?locale={locale}")
    page.wait_for_selector("body[data-ready=true]")
    return str(page.get_attribute("body", "data-cart-id"))


def enter_card(page: Any, code: str, pin: str | None) -> None:
    """Types the code, and the PIN only for a card that has one (the ledger's PIN field is optional)."""
    page.fill(CODE, code)
    page.fill(PIN, pin or "")


def check_balance(page: Any, card: DemoCard) -> None:
    enter_card(page, card.code, card.pin)
    page.click("#check-balance")


def wait_balance(page: Any, cent_amount: int) -> None:
    page.wait_for_selector(f"#balance[data-cent-amount='{cent_amount}']")


def gift_card_payments(stack: DemoStack, cart_id: str) -> list[dict[str, Any]]:
    cart = stack.emulator.get_cart(cart_id, expand=True)
    payments = [ref["obj"] for ref in (cart.get("paymentInfo") or {}).get("payments", [])]
    return [p for p in payments if p["paymentMethodInfo"]["method"] == "giftcard"]


def ledger_balance(stack: DemoStack, code: str) -> int:
    return int(stack.ledger_cli("show", code)["balance"]["centAmount"])
