"""Session authentication on the Enabler-facing routes (contract section 3)."""

from __future__ import annotations

import pytest

from tests.support.flows import new_session


def _assert_session_error(response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["message"] == "Session is not active"
    assert body["statusCode"] == 401
    assert body["error_description"] == "Session is not active"
    assert body["error"] == body["errors"][0]["code"]


@pytest.mark.parametrize("route", ["/balance", "/redeem"])
def test_missing_session_header_is_rejected_without_calling_commercetools(api, emulator, route):
    emulator.reset_stats()
    response = api.post(route, json={"code": "Valid-100-EUR"})
    _assert_session_error(response)
    assert not any(key.endswith("sessions") for key in emulator.stats())


def test_unknown_session_is_rejected(api):
    _assert_session_error(
        api.post("/balance", json={"code": "Valid-100-EUR"}, headers={"X-Session-Id": "no-such-session"})
    )


def test_malformed_session_id_is_rejected(api):
    _assert_session_error(api.post("/balance", json={"code": "x"}, headers={"X-Session-Id": "../../etc/passwd"}))


def test_inactive_session_is_rejected(api, emulator):
    _, session_id = new_session(emulator)
    emulator.deactivate_session(session_id)
    _assert_session_error(api.post("/balance", json={"code": "Valid-100-EUR"}, headers={"X-Session-Id": session_id}))


def test_session_api_down_is_rejected_as_inactive(api, emulator):
    _, session_id = new_session(emulator)
    emulator.set_faults(sessions=503)
    try:
        response = api.post("/balance", json={"code": "Valid-100-EUR"}, headers={"X-Session-Id": session_id})
    finally:
        emulator.clear_faults()
    _assert_session_error(response)


def test_valid_session_passes(api, emulator):
    _, session_id = new_session(emulator)
    response = api.post("/balance", json={"code": "Valid-100-EUR"}, headers={"X-Session-Id": session_id})
    assert response.status_code == 200, response.text


def test_correlation_id_is_echoed(api, emulator):
    _, session_id = new_session(emulator)
    response = api.post(
        "/balance",
        json={"code": "Valid-100-EUR"},
        headers={"X-Session-Id": session_id, "X-Correlation-ID": "corr-123"},
    )
    assert response.headers["x-correlation-id"] == "corr-123"
