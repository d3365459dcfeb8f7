"""Card codes: generation, check character, normalization and keyed hashing.

A code is 19 random symbols from a 32-symbol alphabet without look-alikes (95 bits) plus one
Luhn mod 32 check symbol, shown in five groups of four: `ABCD-EFGH-JKLM-NPQR-STU7`.
The check symbol catches every single-symbol typo and most swaps of neighbours, so a mistyped
code is refused before any database lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
_INDEX = {symbol: i for i, symbol in enumerate(ALPHABET)}
_N = len(ALPHABET)
RANDOM_SYMBOLS = 19
CODE_LENGTH = RANDOM_SYMBOLS + 1
GROUP = 4
_SEPARATORS = str.maketrans("", "", " -_\t")


def check_symbol(payload: str) -> str:
    """Luhn mod N over `payload` (symbols of ALPHABET); returns the symbol to append."""
    factor = 2
    total = 0
    for symbol in reversed(payload):
        addend = factor * _INDEX[symbol]
        addend = addend // _N + addend % _N
        total += addend
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def is_valid(normalized: str) -> bool:
    if len(normalized) != CODE_LENGTH or any(symbol not in _INDEX for symbol in normalized):
        return False
    return check_symbol(normalized[:-1]) == normalized[-1]


def normalize(code: str) -> str:
    """Upper-case and drop separators; does not validate."""
    return code.translate(_SEPARATORS).upper()


def generate() -> str:
    """A new normalized code (call `format_code` to show it)."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return payload + check_symbol(payload)


def format_code(normalized: str) -> str:
    return "-".join(normalized[i : i + GROUP] for i in range(0, len(normalized), GROUP))


def last4(normalized: str) -> str:
    return normalized[-4:]


def code_hash(secret: bytes, normalized: str) -> str:
    return hmac.new(secret, b"code:" + normalized.encode(), hashlib.sha256).hexdigest()


def pin_hash(secret: bytes, card_id: str, pin: str) -> str:
    # The card id salts the hash so equal PINs on different cards do not share a hash.
    return hmac.new(secret, f"pin:{card_id}:{pin}".encode(), hashlib.sha256).hexdigest()


def pin_matches(secret: bytes, card_id: str, pin: str, stored: str) -> bool:
    return hmac.compare_digest(pin_hash(secret, card_id, pin), stored)
