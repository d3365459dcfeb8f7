"""`giftcard-connector demo`: the demo shop's backend and the command that runs the whole local stack.

The shop's page (devkit/demo/) talks only to this backend and, through the Enabler, to the Processor on
another origin. Everything that needs a credential (creating carts and sessions, minting the Merchant
Center JWT for /operations/status) happens here, so no secret ever reaches the browser.
"""

from __future__ import annotations

import argparse
import html
import signal
import sys
import threading
import uuid
from pathlib import Path
from types import FrameType
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
# (name, unit price in cents, quantity): 2 x 24.50 + 4 x 12.25 + 52.00 = 150.00 EUR
LINE_ITEMS = (
    ("Espresso beans, 1 kg", 2450, 2),
    ("Ceramic cup", 1225, 4),
    ("Hand grinder", 5200, 1),
)


def demo_dir() -> Path:
    return find_devkit_dir() / "demo"


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
        draft = {
            "currency": CURRENCY,
            "anonymousId": str(uuid.uuid4()),
            "customLineItems": [
                {
                    "name": {"en": name},
                    "slug": f"item-{index}",
                    "quantity": quantity,
                    "money": {"currencyCode": CURRENCY, "centAmount": price},
                }
                for index, (name, price, quantity) in enumerate(LINE_ITEMS)
            ],
        }
        response = emulator.api("POST", "/carts", json=draft)
        if response.status_code not in (200, 201):
            return JSONResponse({"error": "could not create the cart"}, status_code=502)
        cart = response.json()
        carts.add(cart["id"])
        session_id = emulator.create_session(cart["id"])
        return JSONResponse({"sessionId": session_id, "cartId": cart["id"], "total": cart["totalPrice"]})

    def cart(request: Request) -> Response:
        cart_id = request.path_params["cart_id"]
        if cart_id not in carts:
            return JSONResponse({"error": "unknown cart"}, status_code=404)
        return JSONResponse(emulator.get_cart(cart_id, expand=True))

    def status(_: Request) -> Response:
        token = emulator.mint_jwt()
        try:
            answer = httpx.get(
                f"{processor_url}/operations/status", headers={"Authorization": f"Bearer {token}"}, timeout=15.0
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
            Route("/api/status", status),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ]
    )


class _Stop(KeyboardInterrupt):
    """Raised in the main thread by SIGINT/SIGTERM so the stack's context manager cleans up."""


def run_demo(args: argparse.Namespace) -> int:
    from giftcard_devkit.demo_stack import DemoStack, DemoStackError, card_table

    def out(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    stopping = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        if stopping.is_set():
            return  # a second Ctrl-C must not interrupt the clean-up
        stopping.set()
        sys.stdout.write("\nstopping (the stack shuts down)… ")
        sys.stdout.flush()
        raise _Stop(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with DemoStack(shop_port=int(args.port), progress=out) as stack:
            out(f"\nDemo gift cards (EUR cart of 150.00):\n{card_table(stack.cards)}\n\n")
            out(f"Processor: {stack.processor_url}   ledger: {stack.ledger_url}\n")
            out(f"Open the demo shop: {stack.shop_url}/   (e.g. {stack.shop_url}/?locale=de)\n")
            out("Press Ctrl-C to stop.\n")
            while not stopping.wait(2.0):
                if not stack.alive():
                    out("a service stopped unexpectedly; shutting down\n")
                    return 1
            return 0
    except _Stop:
        out("stopped\n")  # the with-block has stopped every process and removed the temp dir
        return 0
    except (DemoStackError, RuntimeError) as error:
        out(f"\ndemo failed: {error}\n")
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m giftcard_devkit.demo", description="the whole local stack and the demo shop"
    )
    parser.add_argument("--port", type=int, default=3000, help="demo shop port (default 3000)")
    return run_demo(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
