"""What a demanding checkout expects of the Enabler, in the demo shop in Chromium: busy state, the fields
after an apply, the masked PIN, and Remove giving the money back the way Checkout does."""

from __future__ import annotations

from typing import Any

import pytest

from giftcard_devkit.demo_stack import DemoStack
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, NO_CHROMIUM
from tests.e2e.shop import (
    CODE,
    CODE_ERROR,
    MESSAGES,
    PIN,
    check_balance,
    gift_card_payments,
    ledger_balance,
    open_shop,
    wait_balance,
)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

ROOT = ".ctgc-root"
LIVE = "[data-testid=giftcard-live]"
TOGGLE = "[data-testid=giftcard-pin-toggle]"


def active_testid(page: Any) -> str | None:
    value = page.evaluate(
        "document.activeElement && (document.activeElement.dataset.testid || document.activeElement.id)"
    )
    return str(value) if value else None


def test_a_slow_balance_check_shows_a_busy_state(stack: DemoStack, page: Any) -> None:
    card = stack.cards["t-busy"]
    open_shop(page, stack, "en")
    held: list[Any] = []
    page.route("**/balance", lambda route: held.append(route))  # the answer waits until we let it go
    check_balance(page, card)
    page.wait_for_selector(f"{ROOT}[aria-busy=true]")
    assert page.is_disabled(CODE) and page.is_disabled(PIN) and page.is_disabled(TOGGLE)
    assert page.is_disabled("#check-balance") and page.is_disabled("#apply")
    spinner = page.locator(f"{ROOT} .ctgc-spinner")
    assert spinner.is_visible()
    assert spinner.evaluate("e => getComputedStyle(e).animationName") == "ctgc-spin"
    assert page.inner_text("[data-testid=giftcard-feedback]") == "Checking your gift card…"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-busy-1280x800-en.png"), full_page=True)

    for _ in range(100):  # the route handler runs while Playwright processes events
        if held:
            break
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/balance")
    wait_balance(page, 5000)
    assert page.get_attribute(ROOT, "aria-busy") is None
    assert not page.is_disabled(CODE) and not page.is_disabled("#check-balance")
    assert spinner.count() == 0
    assert active_testid(page) == "check-balance"  # the focus is back where the shopper was


def test_after_an_apply_fields_are_cleared_the_rest_shown_and_the_focus_sensible(stack: DemoStack, page: Any) -> None:
    card = stack.cards["t-apply"]  # a card with PIN 2468
    cart_id = open_shop(page, stack, "en")
    check_balance(page, card)
    wait_balance(page, 5000)
    page.fill("#amount", "12.50")
    page.click("#apply")
    page.wait_for_selector("#result.ok")
    assert page.input_value(CODE) == "" and page.input_value(PIN) == ""
    assert page.inner_text("#balance") == "€37.50"
    assert page.get_attribute("#balance", "data-cent-amount") == "3750"
    success = "€12.50 applied. Remaining on the card: €37.50."
    assert page.inner_text("[data-testid=giftcard-feedback]") == success
    assert page.inner_text(LIVE) == success  # announced once, by the one live region
    assert active_testid(page) == "giftcard-code"  # ready for another card, not lost on <body>
    assert page.is_disabled("#amount") and page.input_value("#amount") == ""  # no stale amount
    assert ledger_balance(stack, card.code) == 3750
    assert [p["amountPlanned"]["centAmount"] for p in gift_card_payments(stack, cart_id)] == [1250]


def test_the_pin_is_masked_with_a_show_toggle_and_a_hint_when_it_was_left_out(stack: DemoStack, page: Any) -> None:
    card = stack.cards["eur200-pin"]
    open_shop(page, stack, "de")
    assert page.get_attribute(PIN, "type") == "password"
    assert page.get_attribute(PIN, "inputmode") == "numeric"
    assert page.get_attribute(PIN, "autocomplete") == "off"
    page.fill(PIN, "1234")
    page.click(TOGGLE)
    assert page.get_attribute(PIN, "type") == "text"
    assert page.get_attribute(TOGGLE, "aria-pressed") == "true"
    assert page.inner_text(TOGGLE) == "PIN verbergen"
    page.click(TOGGLE)
    assert page.get_attribute(PIN, "type") == "password"

    # The card needs its PIN; left empty, the message says so without saying the number was right.
    page.fill(CODE, card.code)
    page.fill(PIN, "")
    page.click("#check-balance")
    hint = MESSAGES["de"]["NotFoundPinHint"]
    page.locator(CODE_ERROR).filter(has_text=hint).wait_for()
    # With a wrong PIN typed: exactly what an unknown card gets.
    page.fill(PIN, "9999")
    page.click("#check-balance")
    page.locator(CODE_ERROR).filter(has_text=MESSAGES["de"]["NotFound"]).wait_for()
    assert page.inner_text(CODE_ERROR) == MESSAGES["de"]["NotFound"]


def test_remove_gives_the_money_back_like_checkout(stack: DemoStack, page: Any) -> None:
    card = stack.cards["t-remove"]
    cart_id = open_shop(page, stack, "en")
    check_balance(page, card)
    wait_balance(page, 5000)
    page.fill("#amount", "30.00")
    page.click("#apply")
    page.wait_for_selector("#result.ok")
    assert ledger_balance(stack, card.code) == 2000
    applied = page.locator("[data-testid=applied-card]")
    assert applied.count() == 1
    assert applied.inner_text().startswith("Gift card 1: €30.00")
    button = page.locator("[data-testid=remove-card]")
    assert button.get_attribute("aria-label") == "Remove gift card 1 (€30.00)"

    button.click()
    page.locator("#result.ok").filter(has_text="Gift card removed").wait_for()
    assert page.inner_text("#result") == "Gift card removed: €30.00 is back on the card."
    assert page.inner_text("#balance") == "€50.00"
    assert page.inner_text("#owed") == "€150.00"
    assert page.locator("[data-testid=applied-card]").count() == 0
    assert active_testid(page) == "result"
    page.locator("[data-testid=transaction][data-type=Refund][data-state=Success]").wait_for()

    # The truth on both sides: the card holds its 50.00 again, commercetools shows the Refund.
    assert ledger_balance(stack, card.code) == 5000
    [payment] = gift_card_payments(stack, cart_id)
    kinds = [(t["type"], t["state"], t["amount"]["centAmount"]) for t in payment["transactions"]]
    assert ("Charge", "Success", 3000) in kinds and ("Refund", "Success", 3000) in kinds
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-removed-1280x800-en.png"), full_page=True)


def test_remove_only_acts_on_this_carts_payments(stack: DemoStack) -> None:
    """The shop backend holds the token that cancels: it refuses carts and payments it did not make."""
    import httpx

    created = httpx.post(f"{stack.shop_url}/api/checkout", timeout=15).json()
    other_cart = stack.emulator.create_cart(1000)
    for cart_id, payment_id in [(other_cart["id"], "p-1"), (created["cartId"], "not-on-this-cart")]:
        answer = httpx.post(f"{stack.shop_url}/api/cart/{cart_id}/payments/{payment_id}/cancel", timeout=15)
        assert answer.status_code == 404, answer.text
