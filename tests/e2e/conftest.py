"""Browser tests: the demo stack (emulator, ledger, Processor, shop) once per session, Debian's Chromium."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from giftcard_devkit.demo_stack import CardSpec, DemoCard, DemoStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NO_CHROMIUM = "Debian's chromium is not installed at /usr/bin/chromium (make setup-browser)"
# Fresh cards per redeeming test, issued with the demo's cards at start-up (one ledger CLI process).
TEST_CARDS = (
    CardSpec("t-partial", 5000),
    CardSpec("t-keyboard", 20000, pin="1234"),
    CardSpec("t-double", 3000),
    CardSpec("t-used-up", 500),
    CardSpec("t-busy", 5000),
    CardSpec("t-apply", 5000, pin="2468"),
    CardSpec("t-remove", 5000),
    *(CardSpec(f"t-paid-{size}-{locale}", 20000) for size in ("desktop", "mobile") for locale in ("en", "de")),
)
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def stack() -> Iterator[DemoStack]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the commercetools emulator needs Node 20+")
    with DemoStack(extra_cards=TEST_CARDS) as demo:
        yield demo


# Module scope on purpose: while sync Playwright runs, its event loop counts as running in this thread,
# and pytest-asyncio tests collected after e2e/ would fail with "cannot be called from a running loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def open_page(browser: Any, viewport: dict[str, int] | None = None) -> Iterator[Any]:
    """A fresh context (no shared cookies or cache); a phone-sized one gets touch and a mobile viewport."""
    viewport = viewport or DESKTOP
    mobile = viewport["width"] < 600
    context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with open_page(browser) as page:
        yield page


@pytest.fixture(scope="session")
def used_up_card(stack: DemoStack) -> DemoCard:
    """A card whose whole balance was redeemed through the Processor (for ZeroBalance)."""
    import httpx

    card = stack.cards["t-used-up"]
    cart = stack.emulator.create_cart(1000, "EUR")
    session_id = stack.emulator.create_session(cart["id"])
    body = {"code": card.code, "redeemAmount": {"centAmount": 500, "currencyCode": "EUR"}}
    answer = httpx.post(f"{stack.processor_url}/redeem", json=body, headers={"X-Session-Id": session_id}, timeout=15)
    assert answer.status_code == 200 and answer.json()["result"] == "Success", answer.text
    return card
