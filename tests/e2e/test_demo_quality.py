"""The demo page in its default, error, busy, paid and removed states, at 1280x800 and 390x844, in English and German:
no horizontal scrolling, touch targets of at least 44 px, buttons on one line, axe-core (from npm, injected
into the page) with no violations, every text translated. Screenshots of each state go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from giftcard_devkit.demo_stack import DemoStack
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, DESKTOP, MOBILE, NO_CHROMIUM, open_page
from tests.e2e.shop import CODE_ERROR, MESSAGES, check_balance, open_shop, wait_balance

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

AXE = Path(__file__).resolve().parents[2] / "devkit" / "node_modules" / "axe-core" / "axe.min.js"
UNKNOWN_CODE = "ABCD-EFGH-JKLM-NPQR-STUV"
# English words of the page (shop texts, Enabler texts, data from commercetools and the Processor) that
# must not show on the German page.
ENGLISH = [
    "Your cart",
    "Total",
    "Still to pay",
    "New cart",
    "Pay with",
    "Check balance",
    "Card balance",
    "Amount to apply",
    "Apply gift card",
    "Gift card",
    "Remove",
    "Payments recorded",
    "Payment",
    "Method",
    "Amount",
    "Transactions",
    "Charge",
    "Refund",
    "Success",
    "Pending",
    "Connector status",
    "Refresh",
    "CoCo Permissions",
    "provider",
    "Espresso beans",
    "Ceramic cup",
    "Hand grinder",
    "Show PIN",
    "PIN (optional)",
    "Enter",
    "applied",
    "Remaining",
]

SIZES = {"1280x800": DESKTOP, "390x844": MOBILE}


def overflow(page: Any) -> int:
    """How far the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def small_targets(page: Any) -> list[str]:
    """Visible controls smaller than 44 x 44 CSS px."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('button, input, select, a[href], [role=button]')]
              .filter((el) => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden')
              .map((el) => [el, el.getBoundingClientRect()])
              .filter(([, r]) => r.width < 44 || r.height < 44)
              .map(([el, r]) => `${el.tagName}#${el.id || el.dataset.testid || ''} ${r.width}x${r.height}`)"""
        )
    )


def wrapped_buttons(page: Any) -> list[str]:
    """Buttons whose label runs over more than one line, or that stick out of their panel."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('button')].filter((b) => b.offsetParent !== null).filter((b) => {
                const range = document.createRange();
                range.selectNodeContents(b);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
                const r = b.getBoundingClientRect();
                const panel = b.closest('.panel, .bar').getBoundingClientRect();
                return lines > 1 || r.right > panel.right + 0.5 || r.left < panel.left - 0.5;
              }).map((b) => b.id || b.dataset.testid || b.textContent)"""
        )
    )


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(path=str(AXE))
    return list(
        page.evaluate(
            """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
              }))"""
        )
    )


def check_state(page: Any, state: str, size: str, locale: str) -> None:
    assert overflow(page) <= 0, f"{state}: the page scrolls sideways by {overflow(page)} px"
    assert small_targets(page) == [], f"{state}: touch targets under 44 px"
    assert wrapped_buttons(page) == [], f"{state}: buttons wrap or stick out"
    assert axe_violations(page) == [], f"{state}: axe-core violations"
    if locale == "de":
        text = page.inner_text("body")
        found = [word for word in ENGLISH if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]
        assert found == [], f"{state}: English on the German page"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"demo-{state}-{size}-{locale}.png"), full_page=True)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: run `make setup` (npm ci in devkit/)")
@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("size", list(SIZES))
def test_default_error_busy_paid_and_removed_states(stack: DemoStack, browser: Any, size: str, locale: str) -> None:
    kind = "desktop" if size == "1280x800" else "mobile"
    card = stack.cards[f"t-paid-{kind}-{locale}"]
    with open_page(browser, SIZES[size]) as page:
        open_shop(page, stack, locale)
        page.locator("[data-testid=status-summary] .badge").wait_for()
        check_state(page, "default", size, locale)

        page.fill("[data-testid=giftcard-code]", UNKNOWN_CODE)
        page.click("#check-balance")
        page.locator(CODE_ERROR).filter(has_text=MESSAGES[locale]["NotFoundPinHint"]).wait_for()
        check_state(page, "error", size, locale)

        check_balance(page, card)
        wait_balance(page, 20000)
        held: list[Any] = []
        page.route("**/redeem", lambda route: held.append(route))  # hold the answer: the busy state stays
        page.click("#apply")  # the amount field holds what the cart owes: 150.00
        page.wait_for_selector(".ctgc-root[aria-busy=true] .ctgc-spinner")
        check_state(page, "busy", size, locale)
        while not held:
            page.wait_for_timeout(50)
        held[0].continue_()
        page.unroute("**/redeem")
        page.wait_for_selector("#result.ok")
        page.locator("[data-testid=transaction][data-state=Success]").wait_for()
        assert page.get_attribute("#owed", "data-cent-amount") == "0"
        check_state(page, "paid", size, locale)

        page.click("[data-testid=remove-card]")
        page.locator("[data-testid=transaction][data-type=Refund][data-state=Success]").wait_for()
        assert page.get_attribute("#owed", "data-cent-amount") == "15000"
        assert page.get_attribute("#balance", "data-cent-amount") == "20000"
        check_state(page, "removed", size, locale)

        # The harness can fail: a low-contrast line added to the page is reported.
        page.evaluate(
            "document.querySelector('main').insertAdjacentHTML('beforeend', "
            "'<p id=faint style=\"color:#bbb;background:#fff\">faint</p>')"
        )
        assert "color-contrast" in {v["id"] for v in axe_violations(page)}
