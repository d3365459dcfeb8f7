"""The request edge behind the real server (uvicorn + httptools), not only in-process: a body over the
cap is 413 whether declared or streamed, a NUL byte is 400, and both answers carry X-Correlation-ID."""

from __future__ import annotations

from collections.abc import Iterator

from giftcard_connector.http import MAX_BODY_BYTES
from tests.support.flows import new_session


def test_a_declared_oversize_body_is_413_with_the_error_body(api) -> None:
    response = api.post(
        "/balance",
        content=b"{" + b" " * MAX_BODY_BYTES + b"}",
        headers={"Content-Type": "application/json", "X-Correlation-ID": "edge-413"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "PayloadTooLarge"
    assert response.headers["x-correlation-id"] == "edge-413"


def test_a_streamed_oversize_body_is_cut_at_the_cap(api, emulator) -> None:
    _, session_id = new_session(emulator)

    def chunks() -> Iterator[bytes]:
        yield b'{"code": "'
        for _ in range(64):
            yield b"A" * 4096

    response = api.post(
        "/balance", content=chunks(), headers={"Content-Type": "application/json", "X-Session-Id": session_id}
    )
    assert response.status_code == 413, response.text
    assert response.json()["statusCode"] == 413


def test_a_nul_byte_in_the_query_is_400(api) -> None:
    response = api.get("/health?probe=%00", headers={"X-Correlation-ID": "edge-nul"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"
    assert response.headers["x-correlation-id"] == "edge-nul"
