"""Fuzzing every Processor route in-process (emulator behind it, mock provider): never a 5xx, never a
traceback, every 4xx a contract error body. Bodies are fuzzed with valid credentials, so the parsing
behind the auth checks is reached, and the credentials themselves are fuzzed separately."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Mount, Route

from giftcard_connector.app import create_app
from giftcard_connector.auth.jwt import ALLOWED_ALGORITHMS
from giftcard_connector.settings import Settings
from giftcard_devkit.emulator import Emulator
from tests.fuzz.checks import check_processor_answer
from tests.fuzz.conftest import FUZZ
from tests.fuzz.harness import InProcessApp, LoopThread
from tests.fuzz.strategies import EXTRA_HEADERS, METHODS, PATH_SEGMENTS, bodies, mostly, near

SHOP = "https://shop.example"
MOCK_CODES = ["Valid-5000-EUR", "Valid-0-EUR", "Valid-005000-EUR", "Expired", "NotFound", "GenericError"]
MONEY = {"centAmount": 100, "currencyCode": "EUR"}
BALANCE = {"code": "Valid-5000-EUR", "pin": "1234"}
REDEEM = {"code": "Valid-5000-EUR", "pin": "1234", "redeemAmount": MONEY}
INTENT = {
    "actions": [
        {
            "action": "refundPayment",
            "amount": MONEY,
            "transactionId": "00000000-0000-0000-0000-000000000000",
            "merchantReference": "ref",
        }
    ]
}
INTENT_ACTIONS = ["capturePayment", "refundPayment", "cancelPayment", "reversePayment"]
# Every route the app serves (path parameters as {}); a route added without fuzzing fails the coverage test.
FUZZED_ROUTES = {
    "/balance",
    "/redeem",
    "/enabler/config",
    "/enabler",
    "/operations/status",
    "/operations/payment-intents/{}",
    "/health",
    "/ready",
    "/metrics",
}


class Processor:
    def __init__(self, app: InProcessApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator
        cart = emulator.create_cart(10_000_000, "EUR")
        self.session_id = emulator.create_session(cart["id"], {"paymentInterface": "giftcard-fuzz"})
        self.jwt = emulator.mint_jwt()
        self.oauth = emulator.mint_token(scope=f"manage_checkout_payment_intents:{emulator.project_key}")
        redeemed = app.request("POST", "/redeem", json=REDEEM, headers={"X-Session-Id": self.session_id})
        assert redeemed.status_code == 200, redeemed.text
        self.payment_id: str = redeemed.json()["paymentReference"]

    def post(self, path: str, body: bytes, headers: dict[str, Any]) -> None:
        sent = {"Content-Type": "application/json", "Origin": SHOP, **headers}
        check_processor_answer(self.app.request("POST", path, content=body, headers=sent))


@pytest.fixture(scope="module")
def processor(emulator: Emulator) -> Iterator[Processor]:
    env = {**emulator.processor_env(), "GIFTCARD_PROVIDER": "mock", "CORS_ALLOWED_ORIGINS": SHOP}
    loop = LoopThread()
    served = InProcessApp(loop, create_app(Settings(**env)), "http://processor.test")
    try:
        loop.run(served.start())
        yield Processor(served, emulator)
    finally:
        loop.run(served.stop())
        loop.close()


def test_every_route_is_fuzzed(processor: Processor) -> None:
    app = processor.app.app
    served = set(app.openapi()["paths"]) | {route.path for route in app.routes if isinstance(route, Route | Mount)}
    served -= {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    assert {re.sub(r"\{[^}]*\}", "{}", path) for path in served} == FUZZED_ROUTES


@FUZZ
@given(route=st.sampled_from(["/balance", "/redeem"]), data=st.data())
def test_session_routes_with_a_valid_session(processor: Processor, route: str, data: st.DataObject) -> None:
    template = dict(BALANCE if route == "/balance" else REDEEM)
    template["code"] = data.draw(st.sampled_from(MOCK_CODES))
    body = data.draw(bodies(template), label="body")
    headers = {"X-Session-Id": processor.session_id, **data.draw(EXTRA_HEADERS.map(_keep_session), label="headers")}
    processor.post(route, body, headers)


def _keep_session(headers: dict[str, bytes]) -> dict[str, bytes]:
    return {name: value for name, value in headers.items() if name.lower() != "x-session-id"}


@FUZZ
@given(
    action=st.sampled_from(INTENT_ACTIONS),
    payment=st.one_of(st.none(), PATH_SEGMENTS),
    data=st.data(),
)
def test_payment_intents_with_a_valid_token(
    processor: Processor, action: str, payment: str | None, data: st.DataObject
) -> None:
    template = json.loads(json.dumps(INTENT))
    template["actions"][0]["action"] = action
    body = data.draw(bodies(template), label="body")
    path = f"/operations/payment-intents/{payment if payment is not None else processor.payment_id}"
    processor.post(path, body, {"Authorization": f"Bearer {processor.oauth}"})


def _b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@FUZZ
@given(
    alg=st.sampled_from([*sorted(ALLOWED_ALGORITHMS), "none", "HS256", "EdDSA"]) | near("RS256"),
    kid=mostly("REAL", near("kid")),
    extra=near({"typ": "JWT", "crit": ["exp"], "jku": "https://evil.example/jwks"}),
    mangle=st.sampled_from(["none", "none", "claims", "signature"]),
    junk=st.binary(max_size=64),
)
def test_operations_status_with_forged_tokens(
    processor: Processor, alg: Any, kid: Any, extra: Any, mangle: str, junk: bytes
) -> None:
    """Headers naming the real key's kid with every algorithm (an ES256 header on the RSA kid was a
    500), odd kids and header fields, and mangled claims or signatures: 200 or 401, nothing else."""
    real_header, claims, signature = processor.jwt.split(".")
    real_kid = json.loads(base64.urlsafe_b64decode(real_header + "==")).get("kid")
    header = {**(extra if isinstance(extra, dict) else {}), "alg": alg, "kid": real_kid if kid == "REAL" else kid}
    parts = [_b64(header), claims, signature]
    if mangle == "claims":
        parts[1] = _b64(junk)
    elif mangle == "signature":
        parts[2] = _b64(junk)
    token = ".".join(parts)
    response = processor.app.request("GET", "/operations/status", headers={"Authorization": f"Bearer {token}"})
    check_processor_answer(response)
    assert response.status_code in (200, 401), response.text


@FUZZ
@given(
    route=st.sampled_from(sorted(FUZZED_ROUTES)),
    method=METHODS,
    segment=PATH_SEGMENTS,
    body=st.one_of(st.just(b""), bodies(BALANCE)),
    headers=EXTRA_HEADERS,
    credentials=st.sampled_from(["none", "session", "jwt", "oauth"]),
)
def test_any_route_any_method_any_headers(
    processor: Processor,
    route: str,
    method: str,
    segment: str,
    body: bytes,
    headers: dict[str, bytes],
    credentials: str,
) -> None:
    path = route.replace("{}", segment)
    if route == "/enabler":
        path = f"/enabler/{segment}"
    sent: dict[str, Any] = dict(headers)
    if credentials == "session":
        sent["X-Session-Id"] = processor.session_id
    elif credentials in ("jwt", "oauth"):
        sent["Authorization"] = f"Bearer {processor.jwt if credentials == 'jwt' else processor.oauth}"
    response = processor.app.request(method, path, content=body if method not in ("GET", "HEAD") else b"", headers=sent)
    check_processor_answer(response)
