"""What must hold for every fuzzed answer: no 5xx, no traceback, every 4xx a JSON error body."""

from __future__ import annotations

from typing import Any

import httpx

BALANCE_STATES = {"Valid", "NotFound", "Expired", "CurrencyNotMatch", "ZeroBalance", "GenericError"}
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages")


def _describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.raw_path[:200]!r} -> {response.status_code}: {response.text[:300]!r}"


def assert_no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, _describe(response)
    assert not any(marker in response.text for marker in TRACEBACK_MARKERS), _describe(response)


def _is_error_item(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("code"), str) and isinstance(item.get("message"), str)


def is_general_error(body: Any, status: int) -> bool:
    """Contract section 5: {message, statusCode, errors: [{code, message, ...}]} (auth adds two fields)."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("message"), str)
        and body.get("statusCode") == status
        and isinstance(body.get("errors"), list)
        and len(body["errors"]) > 0
        and all(_is_error_item(item) for item in body["errors"])
    )


def is_giftcard_error(body: Any) -> bool:
    """Contract section 5: {status: {state, errors: [{code, message}]}} with one of the six states."""
    status = body.get("status") if isinstance(body, dict) else None
    return (
        isinstance(status, dict)
        and status.get("state") in BALANCE_STATES
        and status["state"] != "Valid"
        and isinstance(status.get("errors"), list)
        and all(_is_error_item(item) for item in status["errors"])
    )


def _json_body(response: httpx.Response) -> Any:
    assert response.headers.get("content-type", "").startswith("application/json"), _describe(response)
    return response.json()


def check_processor_answer(response: httpx.Response) -> None:
    assert_no_server_error(response)
    if not 400 <= response.status_code < 500 or response.request.method == "HEAD":
        return
    body = _json_body(response)
    assert is_general_error(body, response.status_code) or is_giftcard_error(body), _describe(response)


def check_ledger_answer(response: httpx.Response) -> None:
    assert_no_server_error(response)
    if not 400 <= response.status_code < 500 or response.request.method == "HEAD":
        return
    body = _json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    assert _is_error_item(error), _describe(response)
