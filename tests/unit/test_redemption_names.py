"""Redemption names: the Enabler's key, else session + normalised code + amount."""

from __future__ import annotations

import pytest

from giftcard_connector.errors import InvalidField
from giftcard_connector.giftcards.idempotency import (
    attempt_key,
    attempt_number,
    check_header,
    normalise_code,
    redemption_key,
)
from giftcard_connector.money import Money

EUR10 = Money(1000, "EUR")


@pytest.mark.parametrize("typed", ["abcd-efgh-1234", "ABCD EFGH 1234", " abcdefgh1234 ", "AbCd-EfGh 1234"])
def test_the_same_card_typed_differently_is_the_same_redemption(typed):
    assert normalise_code(typed) == "ABCDEFGH1234"
    assert redemption_key("s1", typed, EUR10) == redemption_key("s1", "ABCDEFGH1234", EUR10)


def test_session_amount_and_currency_each_make_another_redemption():
    base = redemption_key("s1", "CODE", EUR10)
    assert redemption_key("s2", "CODE", EUR10) != base
    assert redemption_key("s1", "CODE", Money(1001, "EUR")) != base
    assert redemption_key("s1", "CODE", Money(1000, "USD")) != base
    assert redemption_key("s1", "OTHER", EUR10) != base


def test_the_enablers_key_names_the_redemption_whatever_the_code():
    assert redemption_key("s1", "CODE", EUR10, "k1") == redemption_key("s1", "OTHER", EUR10, "k1")
    assert redemption_key("s1", "CODE", EUR10, "k1") != redemption_key("s1", "CODE", EUR10, "k2")
    assert redemption_key("s1", "CODE", EUR10, "k1") != redemption_key("s2", "CODE", EUR10, "k1")
    assert redemption_key("s1", "CODE", EUR10, "k1") != redemption_key("s1", "CODE", EUR10)


def test_the_name_is_a_hash_and_never_shows_the_code():
    key = redemption_key("s1", "SECRETCODE123", EUR10)
    assert key.startswith("giftcard-") and "SECRET" not in key and len(key) <= 64


def test_attempts_are_numbered_after_the_name():
    assert attempt_key("n", 1) == "n" and attempt_key("n", 3) == "n-3"
    assert attempt_number("n", "n") == 1 and attempt_number("n", "n-3") == 3
    assert attempt_number("n", "n-x") is None and attempt_number("n", "other") is None


@pytest.mark.parametrize("bad", ["", "x" * 256, "with space", "tab\t", "ü"])
def test_a_malformed_header_is_invalid(bad):
    with pytest.raises(InvalidField):
        check_header(bad)


def test_a_missing_header_is_fine_and_a_good_one_passes():
    assert check_header(None) is None
    assert check_header("3f2c-submit_1") == "3f2c-submit_1"
