"""The demo shop's backend: carts and sessions, the cart view, Remove (cancelPayment) and the status panel.

The shop's page (devkit/demo/) talks only to this backend and, through the Enabler, to the Processor on
another origin. Everything that needs a credential (creating carts and sessions, minting Checkout's OAuth2
token for payment intents and the Merchant Center JWT for /operations/status) happens here, so no secret
ever reaches the browser.
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from giftcard_devkit.emulator import Emulator, find_devkit_dir

LOCALES = ("en", "de", "fr", "nl", "cs", "sk", "ro")
CURRENCY = "EUR"
# (names per locale, unit price in cents, quantity): 2 x 24.50 + 4 x 12.25 + 52.00 = 150.00 EUR
LINE_ITEMS: tuple[tuple[dict[str, str], int, int], ...] = (
    (
        {
            "en": "Espresso beans, 1 kg",
            "de": "Espressobohnen, 1 kg",
            "fr": "Grains d’espresso, 1 kg",
            "nl": "Espressobonen, 1 kg",
            "cs": "Espresso zrnková káva, 1 kg",
            "sk": "Espresso zrnková káva, 1 kg",
            "ro": "Cafea boabe espresso, 1 kg",
        },
        2450,
        2,
    ),
    (
        {
            "en": "Ceramic cup",
            "de": "Keramiktasse",
            "fr": "Tasse en céramique",
            "nl": "Keramische kop",
            "cs": "Keramický šálek",
            "sk": "Keramická šálka",
            "ro": "Ceașcă de ceramică",
        },
        1225,
        4,
    ),
    (
        {
            "en": "Hand grinder",
            "de": "Handmühle",
            "fr": "Moulin manuel",
            "nl": "Handmolen",
            "cs": "Ruční mlýnek",
            "sk": "Ručný mlynček",
            "ro": "Râșniță manuală",
        },
        5200,
        1,
    ),
)
PROCESSOR_TIMEOUT = 15.0


def demo_dir() -> Path:
    return find_devkit_dir() / "demo"


def shop_cart_draft(cent_amount: int | None = None, currency: str = CURRENCY) -> dict[str, Any]:
    """The demo shop's cart (150.00 EUR in three lines), or one line of `cent_amount`."""
    if cent_amount is None:
        items = [
            {
                "name": names,
                "slug": f"item-{index}",
                "quantity": quantity,
                "money": {"currencyCode": currency, "centAmount": price},
            }
            for index, (names, price, quantity) in enumerate(LINE_ITEMS)
        ]
    else:
        names = {"en": "Your item", "de": "Ihr Artikel"}
        items = [
            {
                "name": names,
                "slug": "item",
                "quantity": 1,
                "money": {"currencyCode": currency, "centAmount": cent_amount},
            }
        ]
    return {"currency": currency, "anonymousId": str(uuid.uuid4()), "customLineItems": items}


def create_cart_and_session(
    emulator: Emulator, cent_amount: int | None = None, currency: str = CURRENCY
) -> dict[str, Any]:
    """A cart and an ACTIVE checkout session for it: what Checkout would hand to the Enabler."""
    response = emulator.api("POST", "/carts", json=shop_cart_draft(cent_amount, currency))
    if response.status_code not in (200, 201):
        raise RuntimeError(f"creating the cart answered {response.status_code}: {response.text[:300]}")
    cart: dict[str, Any] = response.json()
    return {"sessionId": emulator.create_session(cart["id"]), "cartId": cart["id"], "total": cart["totalPrice"]}


def create_shop_app(emulator: Emulator, processor_url: str, static_dir: Path | None = None) -> Starlette:
    """The shop backend. Sync handlers: Starlette runs them in its thread pool (the emulator client is sync)."""
    static = static_dir or demo_dir()
    carts: set[str] = set()  # only carts made here are shown: the backend holds a manage_project token

    def page(name: str) -> HTMLResponse:
        # The Processor's address is public (the browser calls it anyway); nothing else is templated.
        text = (static / name).read_text(encoding="utf-8")
        return HTMLResponse(text.replace("__PROCESSOR_URL__", html.escape(processor_url, quote=True)))

    def index(_: Request) -> Response:
        return page("index.html")

    def umd(_: Request) -> Response:
        return page("umd.html")

    def config(_: Request) -> Response:
        return JSONResponse({"processorUrl": processor_url, "locales": list(LOCALES)})

    def checkout(_: Request) -> Response:
        try:
            created = create_cart_and_session(emulator)
        except RuntimeError:
            return JSONResponse({"error": "could not create the cart"}, status_code=502)
        carts.add(created["cartId"])
        return JSONResponse(created)

    def cart(request: Request) -> Response:
        cart_id = request.path_params["cart_id"]
        if cart_id not in carts:
            return JSONResponse({"error": "unknown cart"}, status_code=404)
        return JSONResponse(emulator.get_cart(cart_id, expand=True))

    def cancel(request: Request) -> Response:
        """Remove: what Checkout does when a shopper takes a gift card off the order (cancelPayment)."""
        cart_id = request.path_params["cart_id"]
        payment_id = request.path_params["payment_id"]
        if cart_id not in carts:
            return JSONResponse({"error": "unknown cart"}, status_code=404)
        on_cart = emulator.get_cart(cart_id, expand=False).get("paymentInfo", {}).get("payments", [])
        if payment_id not in {ref["id"] for ref in on_cart}:
            return JSONResponse({"error": "not a payment of this cart"}, status_code=404)
        # A Checkout-style bearer token: introspected by the Processor, scoped to payment intents.
        token = emulator.mint_token(scope=f"manage_checkout_payment_intents:{emulator.project_key}")
        try:
            answer = httpx.post(
                f"{processor_url}/operations/payment-intents/{payment_id}",
                json={"actions": [{"action": "cancelPayment"}]},
                headers={"Authorization": f"Bearer {token}"},
                timeout=PROCESSOR_TIMEOUT,
            )
        except httpx.HTTPError as error:
            return JSONResponse({"error": type(error).__name__}, status_code=502)
        if answer.status_code != 200:
            return JSONResponse({"error": f"HTTP {answer.status_code}"}, status_code=502)
        return JSONResponse({"outcome": answer.json().get("outcome")})

    def status(_: Request) -> Response:
        token = emulator.mint_jwt()
        try:
            answer = httpx.get(
                f"{processor_url}/operations/status",
                headers={"Authorization": f"Bearer {token}"},
                timeout=PROCESSOR_TIMEOUT,
            )
        except httpx.HTTPError as error:
            return JSONResponse({"status": "Unreachable", "error": type(error).__name__}, status_code=502)
        if answer.status_code != 200:
            return JSONResponse({"status": "Unreachable", "error": f"HTTP {answer.status_code}"}, status_code=502)
        body: dict[str, Any] = answer.json()
        return JSONResponse(body)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/umd", umd),
            Route("/api/config", config),
            Route("/api/checkout", checkout, methods=["POST"]),
            Route("/api/cart/{cart_id}", cart),
            Route("/api/cart/{cart_id}/payments/{payment_id}/cancel", cancel, methods=["POST"]),
            Route("/api/status", status),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ]
    )
