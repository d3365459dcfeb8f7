"""CORS for real: the shop's origins may call the Processor, any other origin's page may not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from giftcard_devkit.demo_stack import DemoStack
from tests.e2e.conftest import CHROMIUM, NO_CHROMIUM
from tests.e2e.shop import open_shop

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

FETCH_BALANCE = """async ([processorUrl, sessionId, code]) => {
  try {
    const response = await fetch(processorUrl + '/balance', {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'X-Session-Id': sessionId},
      body: JSON.stringify({code}),
    });
    return 'status ' + response.status;
  } catch (error) {
    return 'blocked ' + error.name;
  }
}"""


class _Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>other site</title><p>not a shop origin</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def foreign_origin() -> Iterator[str]:
    """A real loopback origin (so no Private Network Access rule gets in the way) missing from the allow-list."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _session(stack: DemoStack) -> str:
    cart = stack.emulator.create_cart(1000, "EUR")
    return stack.emulator.create_session(cart["id"])


def test_page_on_a_foreign_origin_cannot_call_balance(stack: DemoStack, page: Any, foreign_origin: str) -> None:
    page.goto(foreign_origin + "/")
    args = [stack.processor_url, _session(stack), stack.cards["eur10"].code]
    assert page.evaluate(FETCH_BALANCE, args) == "blocked TypeError"
    # The Processor itself said no to the preflight (not a network problem).
    preflight = httpx.options(
        f"{stack.processor_url}/balance",
        headers={"Origin": foreign_origin, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_shop_origins_can_call_balance(stack: DemoStack, page: Any, host: str) -> None:
    # The shop page (another origin than the Processor: other port, maybe other host) loaded the Enabler
    # module and its config cross-origin; a direct call works the same way.
    open_shop(page, stack, "en", host=host)
    assert page.evaluate("location.origin") != stack.processor_url
    args = [stack.processor_url, _session(stack), stack.cards["eur10"].code]
    assert page.evaluate(FETCH_BALANCE, args) == "status 200"
