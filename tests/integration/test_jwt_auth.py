"""Merchant Center JWT on GET /operations/status: every failure mode is a 401 (contract section 3)."""

from __future__ import annotations

import base64
import json
import time

import pytest


def _status(api, token: str | None, scheme: str = "Bearer"):
    headers = {} if token is None else {"Authorization": f"{scheme} {token}"}
    return api.get("/operations/status", headers=headers)


def test_valid_jwt_gets_the_status(api, emulator):
    response = _status(api, emulator.mint_jwt())
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "OK"
    assert {c["name"] for c in body["checks"]} == {"CoCo Permissions", "Giftcard provider status check"}
    assert all(c["status"] == "UP" for c in body["checks"])
    assert body["version"] and body["timestamp"] and body["metadata"]["name"]


def test_missing_header_is_access_denied(api):
    response = _status(api, None)
    assert response.status_code == 401
    assert response.json()["error"] == "access_denied"


def test_not_bearer_is_invalid_request(api, emulator):
    response = _status(api, emulator.mint_jwt(), scheme="Basic")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_request"


def _unsigned(claims: dict, alg: str = "none") -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def _with_alg(token: str, alg: str) -> str:
    """The same token with another `alg` in its header (the real key's kid kept)."""
    header, claims, signature = token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**fields, "alg": alg}).encode()).rstrip(b"=").decode()
    return f"{forged}.{claims}.{signature}"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda emu: "not-a-jwt", id="malformed"),
        pytest.param(lambda emu: emu.mint_jwt(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), id="expired"),
        pytest.param(lambda emu: emu.mint_jwt(exp=None), id="no-exp"),
        pytest.param(lambda emu: emu.mint_jwt(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param(
            lambda emu: emu.mint_jwt({f"{emu.issuer}/claims/project_key": "another-project"}), id="wrong-project"
        ),
        pytest.param(lambda emu: emu.mint_jwt({f"{emu.issuer}/claims/project_key": None}), id="no-project"),
        pytest.param(lambda emu: emu.mint_jwt(foreign_key=True), id="forged-signature"),
        pytest.param(lambda emu: emu.mint_jwt(header={"kid": "unknown-kid"}, foreign_key=True), id="unknown-kid"),
        pytest.param(lambda emu: emu.mint_jwt(header={"alg": "none"}), id="alg-none-minted"),
        pytest.param(lambda emu: emu.mint_jwt(header={"alg": "HS256"}), id="alg-hs256"),
        pytest.param(lambda emu: _with_alg(emu.mint_jwt(), "ES256"), id="es256-header-on-the-rsa-kid"),
        pytest.param(lambda emu: _with_alg(emu.mint_jwt(), "PS256"), id="ps256-header-rs256-signature"),
        pytest.param(
            lambda emu: _unsigned(
                {"iss": emu.issuer, f"{emu.issuer}/claims/project_key": emu.project_key, "exp": time.time() + 600}
            ),
            id="alg-none-handmade",
        ),
    ],
)
def test_bad_tokens_are_invalid_token(api, emulator, make_token):
    response = _status(api, make_token(emulator))
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "invalid_token"
    assert body["error_description"]
    assert body["statusCode"] == 401


def test_tampered_payload_is_rejected(api, emulator):
    header, _, signature = emulator.mint_jwt().split(".")
    claims = {"iss": emulator.issuer, f"{emulator.issuer}/claims/project_key": emulator.project_key, "exp": 9999999999}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = _status(api, f"{header}.{payload}.{signature}")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
