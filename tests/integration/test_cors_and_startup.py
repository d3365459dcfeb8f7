"""CORS allow-list, start-up configuration errors, and the status verdict when checks fail."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from giftcard_devkit.processes import processor


@pytest.fixture(scope="module")
def shop_only_api(emulator):
    env = {**emulator.processor_env(), "CORS_ALLOWED_ORIGINS": "https://shop.example, http://localhost:3000"}
    with processor(env) as server, httpx.Client(base_url=server.base_url, timeout=15) as client:
        yield client


def _preflight(client, origin):
    return client.options(
        "/balance",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-session-id",
        },
    )


def test_allowed_origin_passes_preflight(shop_only_api):
    response = _preflight(shop_only_api, "https://shop.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert "x-session-id" in response.headers["access-control-allow-headers"].lower()


def test_other_origin_is_not_allowed(shop_only_api):
    response = _preflight(shop_only_api, "https://evil.example")
    assert "access-control-allow-origin" not in response.headers


def test_enabler_files_are_served_with_cors(shop_only_api):
    response = shop_only_api.get("/enabler/connector-enabler.es.js", headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.headers["access-control-allow-origin"] == "https://shop.example"


def test_enabler_config_needs_a_session_and_names_no_provider(shop_only_api, emulator):
    refused = shop_only_api.get("/enabler/config", headers={"X-Session-Id": "no-such-session"})
    assert refused.status_code == 401
    assert refused.json()["error_description"] == "Session is not active"
    cart = emulator.create_cart(10000)
    session_id = emulator.create_session(cart["id"], {})
    body = shop_only_api.get("/enabler/config", headers={"X-Session-Id": session_id}).json()
    assert body == {"pinRequired": False, "pinSupported": False}


def _serve_with(env_changes: dict[str, str | None], base_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **base_env, "PORT": "1"}
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-m", "giftcard_connector.cli", "serve"], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"CTP_PROJECT_KEY": None}, "CTP_PROJECT_KEY"),
        ({"CTP_CLIENT_SECRET": None}, "CTP_CLIENT_SECRET"),
        ({"CTP_API_URL": "not a url"}, "CTP_API_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"HEALTH_CHECK_TIMEOUT": "-1"}, "HEALTH_CHECK_TIMEOUT"),
        ({"MOCK_CONNECTOR_CURRENCY": "euro"}, "MOCK_CONNECTOR_CURRENCY"),
        ({"GIFTCARD_PROVIDER": "acme"}, "GIFTCARD_PROVIDER"),
        ({"CORS_ALLOWED_ORIGINS": "https://shop.example,shop.example/checkout"}, "shop.example/checkout"),
        ({"GIFTCARD_PROVIDER": "ledger", "LEDGER_URL": None, "LEDGER_API_KEY": None}, "LEDGER_URL"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line_per_variable(emulator, changes, name):
    result = _serve_with(changes, emulator.processor_env())
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    # Every bad variable at once, one line each (the ledger case has two missing: URL and key).
    bad = [key for key in changes if not (key == "GIFTCARD_PROVIDER" and changes[key] == "ledger")]
    assert len(lines) == len(bad), result.stderr
    assert name in lines[0]
    assert all(line.startswith("configuration error: ") for line in lines)


def test_status_is_partially_available_when_the_provider_is_down(emulator):
    env = {
        **emulator.processor_env(),
        "GIFTCARD_PROVIDER": "ledger",
        "LEDGER_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
        "LEDGER_API_KEY": "any",
        "PROVIDER_TIMEOUT": "2",
    }
    with processor(env) as server:
        response = httpx.get(
            f"{server.base_url}/operations/status",
            headers={"Authorization": f"Bearer {emulator.mint_jwt()}"},
            timeout=15,
        )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "Partially Available"
    provider = next(c for c in body["checks"] if c["name"] == "Giftcard provider status check")
    assert provider["status"] == "DOWN"
    assert provider["message"]


def test_status_is_unavailable_when_checks_time_out(emulator):
    env = {**emulator.processor_env(), "HEALTH_CHECK_TIMEOUT": "300"}
    jwt = emulator.mint_jwt()
    # A fresh process has no token yet: the permissions check must wait for the slow token call.
    emulator.set_faults(delays={"token": 2000})
    try:
        with processor(env) as server:
            response = httpx.get(
                f"{server.base_url}/operations/status", headers={"Authorization": f"Bearer {jwt}"}, timeout=15
            )
    finally:
        emulator.clear_faults()
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "Unavailable"
    permissions = next(c for c in body["checks"] if c["name"] == "CoCo Permissions")
    assert permissions["status"] == "DOWN"
    assert "300" in permissions["message"] or "0.3" in permissions["message"]


def test_several_workers_serve_one_port(emulator):
    env = {**emulator.processor_env(), "WORKERS": "2", "LOG_LEVEL": "WARNING"}
    cart = emulator.create_cart(10000)
    session_id = emulator.create_session(cart["id"], {})
    with processor(env) as server:
        answers = [
            httpx.post(
                f"{server.base_url}/balance",
                json={"code": "Valid-100-EUR"},
                headers={"X-Session-Id": session_id},
                timeout=15,
            ).status_code
            for _ in range(6)
        ]
    assert answers == [200] * 6


def test_wrong_client_credentials_are_named_not_hidden_as_a_session_error(emulator):
    env = {**emulator.processor_env(), "CTP_CLIENT_SECRET": "wrong-secret", "LOG_LEVEL": "WARNING"}
    cart = emulator.create_cart(10000)
    session_id = emulator.create_session(cart["id"], {})
    with processor(env) as server:
        balance = httpx.post(
            f"{server.base_url}/balance", json={"code": "Valid-100-EUR"}, headers={"X-Session-Id": session_id}
        )
        status = httpx.get(
            f"{server.base_url}/operations/status", headers={"Authorization": f"Bearer {emulator.mint_jwt()}"}
        )
    assert balance.status_code == 502
    assert "client credentials" in balance.json()["message"]
    assert "wrong-secret" not in balance.text
    permissions = next(c for c in status.json()["checks"] if c["name"] == "CoCo Permissions")
    assert permissions["status"] == "DOWN"
    assert "client credentials" in permissions["message"]
