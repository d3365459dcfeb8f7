"""CORS_ALLOWED_ORIGINS entries must be origins: a bad one stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from giftcard_connector.settings import ConfigurationError, is_origin, load_settings

REQUIRED = {
    "CTP_PROJECT_KEY": "shop",
    "CTP_CLIENT_ID": "id",
    "CTP_CLIENT_SECRET": "secret",
    "CTP_AUTH_URL": "http://127.0.0.1:9",
    "CTP_API_URL": "http://127.0.0.1:9",
    "CTP_SESSION_URL": "http://127.0.0.1:9",
    "CTP_JWKS_URL": "http://127.0.0.1:9/jwks",
    "CTP_JWT_ISSUER": "https://mc.example",
}


@pytest.mark.parametrize(
    "origin",
    ["*", "https://shop.example", "http://localhost:3000", "https://xn--bcher-kva.example", "http://[::1]:8080"],
)
def test_origins_are_accepted(origin: str) -> None:
    assert is_origin(origin)


@pytest.mark.parametrize(
    "value",
    [
        "shop.example",  # no scheme
        "https://shop.example/checkout",  # a path: browsers never send one in Origin
        "https://shop.example?x=1",
        "https://shop.example#top",
        "ftp://shop.example",
        "https://user@shop.example",
        "https://shop.example:99999",
        "https://shop.example:port",
        "https://",
        "https://shop example",
        "null",
    ],
)
def test_non_origins_are_refused(value: str) -> None:
    assert not is_origin(value)


def test_a_bad_entry_stops_start_up_in_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://shop.example, shop.example/checkout")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert "CORS_ALLOWED_ORIGINS" in message
    assert "shop.example/checkout" in message


def test_good_entries_load_without_trailing_slashes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://shop.example/, http://localhost:3000")
    assert load_settings().CORS_ALLOWED_ORIGINS == ["https://shop.example", "http://localhost:3000"]
