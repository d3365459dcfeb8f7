"""The local commercetools emulator, over HTTP: what it adds to commercetools-mock 4.4.0 and what it fixes."""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from giftcard_devkit.emulator import Emulator
from tests.support.emulator_fixture import emulator  # noqa: F401


@pytest.fixture()
def emu(emulator: Emulator) -> Iterator[Emulator]:  # noqa: F811
    emulator.clear_faults()
    yield emulator
    emulator.clear_faults()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(emu: Emulator, **form: str) -> httpx.Response:
    return emu.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        auth=(emu.client_id, emu.client_secret),
    )


def _introspect(emu: Emulator, token: str, auth: tuple[str, str] | None = None) -> httpx.Response:
    return emu.client.post("/oauth/introspect", data={"token": token}, auth=auth or (emu.client_id, emu.client_secret))


def _payment(emu: Emulator, cent_amount: int = 500, currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    draft = {
        "amountPlanned": {"centAmount": cent_amount, "currencyCode": currency},
        "paymentMethodInfo": {"method": "giftcard", "paymentInterface": "emulator-test"},
        **extra,
    }
    response = emu.api("POST", "/payments", json=draft)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _update(emu: Emulator, payment: dict[str, Any], *actions: dict[str, Any]) -> httpx.Response:
    return emu.api("POST", f"/payments/{payment['id']}", json={"version": payment["version"], "actions": list(actions)})


# ---------------------------------------------------------------- OAuth token


def test_token_default_scope_is_manage_project(emu: Emulator) -> None:
    response = _token(emu)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == f"manage_project:{emu.project_key}"
    assert body["expires_in"] > 0


def test_token_scope_from_form_body_and_query(emu: Emulator) -> None:
    scope = f"view_sessions:{emu.project_key} manage_payments:{emu.project_key}"
    assert _token(emu, scope=scope).json()["scope"] == scope
    response = emu.client.post(
        "/oauth/token",
        params={"grant_type": "client_credentials", "scope": f"manage_orders:{emu.project_key}"},
        auth=(emu.client_id, emu.client_secret),
    )
    assert response.json()["scope"] == f"manage_orders:{emu.project_key}"


def test_token_wrong_credentials_401(emu: Emulator) -> None:
    response = emu.client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(emu.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    no_auth = emu.client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert no_auth.status_code == 401


def test_token_unsupported_grant_400(emu: Emulator) -> None:
    assert _token(emu, grant_type="password").status_code == 400


def test_api_requires_valid_bearer(emu: Emulator) -> None:
    cart = emu.create_cart(100)
    assert emu.client.get(f"/{emu.project_key}/carts/{cart['id']}").status_code == 401
    bad = emu.client.get(f"/{emu.project_key}/carts/{cart['id']}", headers=_bearer("nope"))
    assert bad.status_code == 401
    inactive = emu.mint_token(active=False)
    assert emu.client.get(f"/{emu.project_key}/carts/{cart['id']}", headers=_bearer(inactive)).status_code == 401
    token = _token(emu).json()["access_token"]
    assert emu.client.get(f"/{emu.project_key}/carts/{cart['id']}", headers=_bearer(token)).status_code == 200


# ---------------------------------------------------------------- introspection


def test_introspection_active_token(emu: Emulator) -> None:
    token = _token(emu).json()["access_token"]
    body = _introspect(emu, token).json()
    assert body["active"] is True
    assert body["scope"] == f"manage_project:{emu.project_key}"
    assert body["client_id"] == emu.client_id
    assert body["exp"] > time.time()


def test_introspection_minted_tokens(emu: Emulator) -> None:
    scope = f"manage_checkout_payment_intents:{emu.project_key}"
    body = _introspect(emu, emu.mint_token(scope=scope)).json()
    assert body["active"] is True
    assert body["scope"] == scope
    assert _introspect(emu, emu.mint_token(active=False)).json() == {"active": False}
    assert _introspect(emu, emu.mint_token(expires_in=-10)).json() == {"active": False}


def test_introspection_unknown_token(emu: Emulator) -> None:
    assert _introspect(emu, "no-such-token").json() == {"active": False}


def test_introspection_wrong_credentials_401(emu: Emulator) -> None:
    token = _token(emu).json()["access_token"]
    assert _introspect(emu, token, auth=(emu.client_id, "wrong")).status_code == 401
    assert emu.client.post("/oauth/introspect", data={"token": token}).status_code == 401


# ---------------------------------------------------------------- sessions


def test_session_create_and_read(emu: Emulator) -> None:
    cart = emu.create_cart(1000)
    metadata = {"processorUrl": "http://127.0.0.1:8080", "paymentInterface": "gc", "correlationId": "c-1"}
    response = emu.api("POST", "/sessions", json={"cart": {"cartRef": {"id": cart["id"]}}, "metadata": metadata})
    assert response.status_code == 201
    created = response.json()
    assert created["state"] == "ACTIVE"
    assert created["activeCart"]["cartRef"]["id"] == cart["id"]
    read = emu.api("GET", f"/sessions/{created['id']}")
    assert read.status_code == 200
    body = read.json()
    assert body["id"] == created["id"]
    assert body["state"] == "ACTIVE"
    assert body["activeCart"]["cartRef"]["id"] == cart["id"]
    assert body["metadata"] == metadata


def test_session_unknown_404(emu: Emulator) -> None:
    assert emu.api("GET", "/sessions/does-not-exist").status_code == 404


def test_session_requires_bearer(emu: Emulator) -> None:
    session_id = emu.create_session(emu.create_cart(100)["id"])
    assert emu.client.get(f"/{emu.project_key}/sessions/{session_id}").status_code == 401
    inactive = emu.mint_token(active=False)
    path = f"/{emu.project_key}/sessions/{session_id}"
    assert emu.client.get(path, headers=_bearer(inactive)).status_code == 401


def test_session_for_unknown_cart_400(emu: Emulator) -> None:
    response = emu.api("POST", "/sessions", json={"cart": {"cartRef": {"id": "nope"}}})
    assert response.status_code == 400


def test_session_deactivate(emu: Emulator) -> None:
    session_id = emu.create_session(emu.create_cart(100)["id"], {"a": 1})
    emu.deactivate_session(session_id)
    assert emu.get_session(session_id)["state"] == "INACTIVE"
    assert emu.client.post("/__test/sessions/nope/state", json={"state": "INACTIVE"}).status_code == 404


# ---------------------------------------------------------------- JWKS and JWT


def test_jwks_serves_the_announced_kid(emu: Emulator) -> None:
    keys = emu.client.get("/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == [emu.jwks_kid]
    assert keys[0]["kty"] == "RSA"
    assert "d" not in keys[0]


def test_jwks_kid_fresh_per_start(emu: Emulator) -> None:
    with Emulator() as other:
        assert other.jwks_kid
        assert other.jwks_kid != emu.jwks_kid
        assert other.base_url != emu.base_url
        kids = [k["kid"] for k in httpx.get(other.jwks_url).json()["keys"]]
        assert kids == [other.jwks_kid]


def _verify(emu: Emulator, token: str) -> dict[str, Any]:
    client = jwt.PyJWKClient(emu.jwks_url)
    key = client.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256"], issuer=emu.issuer, options={"require": ["exp", "iss"]}
    )
    return claims


def test_minted_jwt_verifies_against_jwks(emu: Emulator) -> None:
    token = emu.mint_jwt(sub="merchant-user")
    assert jwt.get_unverified_header(token)["kid"] == emu.jwks_kid
    claims = _verify(emu, token)
    assert claims["iss"] == emu.issuer
    assert claims[f"{emu.issuer}/claims/project_key"] == emu.project_key
    assert claims["sub"] == "merchant-user"
    assert claims["exp"] - claims["iat"] == 3600


def test_minted_jwt_overrides_and_removals(emu: Emulator) -> None:
    token = emu.mint_jwt({f"{emu.issuer}/claims/project_key": "other", "exp": None, "iss": "https://evil"})
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims[f"{emu.issuer}/claims/project_key"] == "other"
    assert "exp" not in claims
    assert claims["iss"] == "https://evil"
    expired = emu.mint_jwt(exp=int(time.time()) - 60)
    with pytest.raises(jwt.ExpiredSignatureError):
        _verify(emu, expired)


def test_minted_jwt_header_overrides(emu: Emulator) -> None:
    none_token = emu.mint_jwt(header={"alg": "none"})
    assert jwt.get_unverified_header(none_token)["alg"] == "none"
    assert none_token.endswith(".")
    assert jwt.get_unverified_header(emu.mint_jwt(header={"kid": "unknown"}))["kid"] == "unknown"
    foreign = emu.mint_jwt(foreign_key=True)
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(emu, foreign)


# ---------------------------------------------------------------- carts


@pytest.mark.parametrize(("currency", "digits"), [("EUR", 2), ("JPY", 0), ("KWD", 3)])
def test_cart_total_fraction_digits_match_currency(emu: Emulator, currency: str, digits: int) -> None:
    cart = emu.create_cart(12345, currency)
    assert cart["totalPrice"] == {
        "type": "centPrecision",
        "centAmount": 12345,
        "currencyCode": currency,
        "fractionDigits": digits,
    }
    assert emu.get_cart(cart["id"])["totalPrice"]["fractionDigits"] == digits


def test_cart_customer_or_anonymous(emu: Emulator) -> None:
    assert emu.create_cart(100, customer_id="customer-1")["customerId"] == "customer-1"
    anonymous = emu.create_cart(100)
    assert anonymous["anonymousId"]
    assert "customerId" not in anonymous


def test_cart_add_payment_and_expand(emu: Emulator) -> None:
    cart = emu.create_cart(2000)
    payments = [_payment(emu, 500), _payment(emu, 700)]
    version = cart["version"]
    for payment in payments:
        response = emu.api(
            "POST",
            f"/carts/{cart['id']}",
            json={
                "version": version,
                "actions": [{"action": "addPayment", "payment": {"typeId": "payment", "id": payment["id"]}}],
            },
        )
        assert response.status_code == 200, response.text
        version = response.json()["version"]
    expanded = emu.get_cart(cart["id"])
    refs = expanded["paymentInfo"]["payments"]
    assert [r["id"] for r in refs] == [p["id"] for p in payments]
    assert [r["obj"]["amountPlanned"]["centAmount"] for r in refs] == [500, 700]
    plain = emu.get_cart(cart["id"], expand=False)
    assert "obj" not in plain["paymentInfo"]["payments"][0]


# ---------------------------------------------------------------- payments


def test_payment_create_keeps_customer_and_anonymous_id(emu: Emulator) -> None:
    with_customer = _payment(emu, customer={"typeId": "customer", "id": "customer-9"})
    assert with_customer["customer"] == {"typeId": "customer", "id": "customer-9"}
    anonymous = _payment(emu, anonymousId="anon-9")
    assert anonymous["anonymousId"] == "anon-9"
    assert emu.get_payment(anonymous["id"])["anonymousId"] == "anon-9"
    assert with_customer["paymentMethodInfo"] == {"method": "giftcard", "paymentInterface": "emulator-test"}
    assert with_customer["amountPlanned"]["fractionDigits"] == 2


def test_payment_updates_and_version_once_per_request(emu: Emulator) -> None:
    payment = _payment(emu, 1500, "JPY")
    response = _update(
        emu,
        payment,
        {"action": "setInterfaceId", "interfaceId": "ref-1"},
        {
            "action": "addTransaction",
            "transaction": {
                "type": "Charge",
                "amount": {"centAmount": 1500, "currencyCode": "JPY"},
                "interactionId": "ref-1",
                "state": "Initial",
            },
        },
        {"action": "setStatusInterfaceCode", "interfaceCode": "accepted"},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["version"] == payment["version"] + 1
    assert updated["interfaceId"] == "ref-1"
    assert updated["paymentStatus"]["interfaceCode"] == "accepted"
    (transaction,) = updated["transactions"]
    assert transaction["interactionId"] == "ref-1"
    assert transaction["state"] == "Initial"
    assert transaction["amount"]["fractionDigits"] == 0

    response = _update(
        emu,
        updated,
        {"action": "changeTransactionState", "transactionId": transaction["id"], "state": "Success"},
        {"action": "changeTransactionInteractionId", "transactionId": transaction["id"], "interactionId": "r2"},
    )
    assert response.status_code == 200, response.text
    final = response.json()
    assert final["version"] == updated["version"] + 1
    assert final["transactions"][0]["state"] == "Success"
    assert final["transactions"][0]["interactionId"] == "r2"
    assert emu.get_payment(payment["id"])["version"] == final["version"]


def test_payment_stale_version_409(emu: Emulator) -> None:
    payment = _payment(emu)
    assert _update(emu, payment, {"action": "setInterfaceId", "interfaceId": "a"}).status_code == 200
    response = _update(emu, payment, {"action": "setInterfaceId", "interfaceId": "b"})
    assert response.status_code == 409
    body = response.json()
    assert body["statusCode"] == 409
    assert body["message"]
    (error,) = body["errors"]
    assert error["code"] == "ConcurrentModification"
    assert error["currentVersion"] == payment["version"] + 1
    assert error["message"]


def test_change_transaction_state_unknown_id_400(emu: Emulator) -> None:
    payment = _payment(emu)
    response = _update(emu, payment, {"action": "changeTransactionState", "transactionId": "nope", "state": "Success"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidOperation"
    assert emu.get_payment(payment["id"])["version"] == payment["version"]


@pytest.mark.parametrize(
    "body",
    [
        {"actions": [{"action": "setInterfaceId", "interfaceId": "x"}]},
        {"version": 1},
        {"version": 1, "actions": [{"nope": 1}]},
        {"version": 1, "actions": [{"action": "noSuchAction"}]},
        {"version": 1, "actions": [{"action": "addTransaction"}]},
        {"version": 1, "actions": [{"action": "addTransaction", "transaction": {"type": "Charge"}}]},
        {
            "version": 1,
            "actions": [
                {
                    "action": "addTransaction",
                    "transaction": {
                        "type": "Charge",
                        "amount": {"centAmount": 1, "currencyCode": "EUR"},
                        "state": "Done",
                    },
                }
            ],
        },
    ],
)
def test_malformed_updates_are_400(emu: Emulator, body: dict[str, Any]) -> None:
    payment = _payment(emu)
    response = emu.api("POST", f"/payments/{payment['id']}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"]


def test_malformed_bodies_are_400(emu: Emulator) -> None:
    headers = {"Content-Type": "application/json"}
    assert emu.api("POST", "/payments", content=b"not json", headers=headers).status_code == 400
    assert emu.api("POST", "/payments", json={}).status_code == 400
    assert emu.api("POST", "/carts", json={}).status_code == 400


# ---------------------------------------------------------------- stats and faults


def test_stats_count_calls(emu: Emulator) -> None:
    cart = emu.create_cart(100)
    session_id = emu.create_session(cart["id"])
    emu.reset_stats()
    emu.get_cart(cart["id"])
    emu.get_cart(cart["id"])
    emu.get_session(session_id)
    _payment(emu)
    _token(emu)
    _introspect(emu, "x")
    emu.client.get("/.well-known/jwks.json")
    assert emu.stats() == {
        "GET carts": 2,
        "GET sessions": 1,
        "POST payments": 1,
        "POST oauth/token": 1,
        "POST oauth/introspect": 1,
        "GET jwks": 1,
    }
    emu.reset_stats()
    assert emu.stats() == {}


def test_faults_and_clear(emu: Emulator) -> None:
    session_id = emu.create_session(emu.create_cart(100)["id"])
    token = emu.access_token()
    emu.set_faults(sessions=503, introspect=500, token=503)
    assert emu.api("GET", f"/sessions/{session_id}").status_code == 503
    assert _introspect(emu, token).status_code == 500
    assert _token(emu).status_code == 503
    assert emu.api("GET", "/carts").status_code == 200
    emu.set_faults()
    assert emu.api("GET", f"/sessions/{session_id}").status_code == 200
    assert _introspect(emu, token).status_code == 200
    assert _token(emu).status_code == 200


def test_fault_delay(emu: Emulator) -> None:
    emu.set_faults(delayMs=300)
    started = time.monotonic()
    _introspect(emu, "x")
    assert time.monotonic() - started >= 0.29
    emu.set_faults(delays={"sessions": 300})
    started = time.monotonic()
    _introspect(emu, "x")
    assert time.monotonic() - started < 0.25


# ---------------------------------------------------------------- launcher


def test_processor_env_points_at_emulator(emu: Emulator) -> None:
    env = emu.processor_env()
    assert env["CTP_AUTH_URL"] == env["CTP_API_URL"] == env["CTP_SESSION_URL"] == emu.base_url
    assert env["CTP_JWKS_URL"] == f"{emu.base_url}/.well-known/jwks.json"
    assert env["CTP_JWT_ISSUER"] == emu.issuer
    assert env["CTP_PROJECT_KEY"] == emu.project_key
    assert (env["CTP_CLIENT_ID"], env["CTP_CLIENT_SECRET"]) == (emu.client_id, emu.client_secret)
    basic = base64.b64encode(f"{env['CTP_CLIENT_ID']}:{env['CTP_CLIENT_SECRET']}".encode()).decode()
    response = httpx.post(
        f"{env['CTP_AUTH_URL']}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    assert json.loads(response.text)["access_token"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_stop_leaves_no_process() -> None:
    emu = Emulator().start()
    pid = emu._proc.pid if emu._proc else 0
    assert pid
    emu.stop()
    emu.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_payment_keys_are_unique_like_commercetools(emu: Emulator):
    draft = {"key": f"k-{uuid.uuid4()}", "amountPlanned": {"centAmount": 100, "currencyCode": "EUR"}}
    assert emu.api("POST", "/payments", json=draft).status_code == 201
    second = emu.api("POST", "/payments", json=draft)
    assert second.status_code == 400
    assert second.json()["errors"][0]["code"] == "DuplicateField"
