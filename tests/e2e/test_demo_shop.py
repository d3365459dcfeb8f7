"""The demo shop in Chromium: balance, partial redeem, error states, keyboard, double submit, status."""

from __future__ import annotations

import time
from typing import Any

import pytest

from giftcard_devkit.demo_stack import DemoCard, DemoStack
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, NO_CHROMIUM
from tests.e2e.shop import (
    CODE,
    CODE_ERROR,
    MESSAGES,
    PIN,
    check_balance,
    enter_card,
    gift_card_payments,
    ledger_balance,
    open_shop,
    wait_balance,
)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

# A well-formed code that was never issued (the check character may fail too: NotFound either way).
UNKNOWN_CODE = "ABCD-EFGH-JKLM-NPQR-STUV"


def test_balance_then_apply_part_records_payment_and_lowers_ledger(stack: DemoStack, page: Any) -> None:
    card = stack.cards["t-partial"]
    cart_id = open_shop(page, stack, "en")
    assert page.inner_text("#total") == "€150.00"

    # A card without a PIN: the PIN field is there, optional, and left empty.
    assert "(optional)" in page.inner_text("label[for=ctgc-giftcard-pin]")
    assert page.get_attribute(PIN, "aria-required") is None
    check_balance(page, card)
    wait_balance(page, 5000)
    assert page.inner_text("#balance") == "€50.00"
    assert page.input_value("#amount") == "50.00"  # min(balance, owed)

    page.fill("#amount", "20.00")
    page.click("#apply")
    page.wait_for_selector("#result.ok")
    assert page.inner_text("#result") == "Gift card applied: €20.00."
    page.wait_for_selector("[data-testid=transaction]")
    assert page.inner_text("#owed") == "€130.00"
    assert page.inner_text("#balance") == "€30.00"  # what is left on the card

    [payment] = gift_card_payments(stack, cart_id)
    assert payment["amountPlanned"]["centAmount"] == 2000
    charges = [t for t in payment["transactions"] if t["type"] == "Charge"]
    assert [(t["state"], t["amount"]["centAmount"], t["amount"]["currencyCode"]) for t in charges] == [
        ("Success", 2000, "EUR")
    ]
    assert ledger_balance(stack, card.code) == 3000

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-shop-partial-redeem.png"), full_page=True)


@pytest.mark.parametrize("locale", ["en", "de"])
def test_error_states_show_translated_message(stack: DemoStack, page: Any, used_up_card: DemoCard, locale: str) -> None:
    open_shop(page, stack, locale)
    cases = [
        # The optional PIN field left empty: the message names the PIN (it may be why).
        ("unknown code", UNKNOWN_CODE, None, "NotFoundPinHint"),
        ("expired", stack.cards["expired"].code, None, "Expired"),
        ("USD card on a EUR cart", stack.cards["usd"].code, None, "CurrencyNotMatch"),
        ("fully used", used_up_card.code, None, "ZeroBalance"),
        # A wrong PIN must say no more than an unknown card would.
        ("wrong PIN", stack.cards["eur200-pin"].code, "9999", "NotFound"),
    ]
    for name, code, pin, state in cases:
        enter_card(page, code, pin)
        page.click("#check-balance")
        alert = page.locator(CODE_ERROR)
        expected = MESSAGES[locale][state]
        alert.filter(has_text=expected).wait_for()
        assert alert.inner_text() == expected, name
        page.locator("[data-testid=giftcard-live]").filter(has_text=expected).wait_for()  # announced
        assert page.get_attribute(CODE, "aria-invalid") == "true", name
        assert page.inner_text("#balance") == "–", name
        assert page.is_disabled("#apply"), name
    if locale == "de":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo-shop-error-de.png"), full_page=True)


def test_keyboard_only_balance_and_apply(stack: DemoStack, page: Any) -> None:
    card = stack.cards["t-keyboard"]
    cart_id = open_shop(page, stack, "de")
    for _ in range(20):  # Tab from the top of the page until the card number field has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "giftcard-code":
            break
    else:
        pytest.fail("Tab never reached the gift card number field")
    page.keyboard.type(card.code)
    page.keyboard.press("Tab")
    page.keyboard.type("1234")
    page.keyboard.press("Enter")
    wait_balance(page, 20000)
    assert page.inner_text("#balance") == "200,00\xa0€"
    assert page.input_value("#amount") == "150,00"  # the cart owes less than the card holds

    while page.evaluate("document.activeElement.id") != "amount":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # submits the form: the whole amount owed
    page.wait_for_selector("#result.ok")
    assert page.inner_text("#owed") == "0,00\xa0€"
    [payment] = gift_card_payments(stack, cart_id)
    assert payment["amountPlanned"]["centAmount"] == 15000
    assert ledger_balance(stack, card.code) == 5000


def test_double_click_on_apply_redeems_once(stack: DemoStack, page: Any) -> None:
    card = stack.cards["t-double"]
    cart_id = open_shop(page, stack, "en")
    redeems: list[str] = []
    page.on("request", lambda request: redeems.append(request.url) if request.url.endswith("/redeem") else None)
    check_balance(page, card)
    wait_balance(page, 3000)
    page.dblclick("#apply")
    page.wait_for_selector("#result.ok")
    time.sleep(0.5)  # room for a second request, if one were sent
    assert len(redeems) == 1
    assert len(gift_card_payments(stack, cart_id)) == 1
    assert ledger_balance(stack, card.code) == 0


def test_status_panel_and_no_secret_in_the_page(stack: DemoStack, page: Any) -> None:
    bodies: list[str] = []
    page.on("response", lambda response: bodies.append(response.text()) if "/api/" in response.url else None)
    open_shop(page, stack, "fr")
    page.locator("[data-testid=status-summary] .badge").filter(has_text="OK").wait_for()
    assert page.locator("#status li").count() == 2
    assert page.inner_text("h1") == "Boutique de démonstration"
    secrets = [stack.emulator.client_secret, stack.ledger_api_key, stack.ledger_env["LEDGER_SECRET_KEY"]]
    seen = page.content() + "".join(bodies)
    for secret in secrets:
        assert secret not in seen
    assert "eyJ" not in seen  # no JWT either: the backend mints it and keeps it


def test_umd_build_as_classic_script(stack: DemoStack, page: Any) -> None:
    page.goto(f"{stack.shop_url}/umd")
    page.wait_for_selector("body[data-ready=true]")
    assert page.evaluate("typeof window.Connector.Enabler") == "function"
    assert page.locator("script[type=module]").count() == 0
    enter_card(page, stack.cards["eur10"].code, None)
    page.click("#check-balance")
    page.locator("#balance").filter(has_text="1000 EUR").wait_for()
