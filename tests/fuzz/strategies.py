"""Hypothesis strategies for hostile requests: JSON of every shape, near-valid bodies, broken bytes,
deep nesting, odd and long header values, odd path segments."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

# Numbers around the edges of int32/int64/double and far beyond.
EDGE_INTEGERS = st.sampled_from([0, -1, 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**63) - 1, 10**30, -(10**400)])
ODD_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "\udfff", "\u202e", "\ufeff", "💳" * 50, "Ω≈ç√", "%00", "../..", "null"]
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | EDGE_INTEGERS
    | st.floats()
    | st.text(max_size=40)
    | ODD_TEXT
    # Long text, built cheaply (drawing thousands of random characters costs more than the request).
    | st.builds(lambda char, n: char * n, st.sampled_from(["A", "é", "💳", "\u0000"]), st.integers(200, 5000))
)


def json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        LEAVES,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=12,
    )


def mostly(kept: Any, mutated: st.SearchStrategy[Any], percent_kept: int = 75) -> st.SearchStrategy[Any]:
    """`kept` most of the time, so that a body usually carries one bad field among good ones."""
    return st.integers(min_value=0, max_value=99).flatmap(lambda n: st.just(kept) if n < percent_kept else mutated)


# Text that databases and encoders choke on: NUL bytes, lone surrogates, control and bidi characters.
NASTY_TEXT = st.one_of(
    ODD_TEXT,
    st.builds(lambda text, bad: text + bad + text, st.text(max_size=8), st.sampled_from(["\x00", "\ud800", "\x1b"])),
)


def near(template: Any) -> st.SearchStrategy[Any]:
    """Values shaped like `template`, each field kept, or replaced by a value of a nasty or wrong kind."""
    if isinstance(template, dict):
        full = st.fixed_dictionaries({key: near(value) for key, value in template.items()})
        partial = st.fixed_dictionaries({}, optional={key: near(value) for key, value in template.items()})
        return st.integers(min_value=0, max_value=9).flatmap(
            lambda n: full if n < 7 else partial if n < 9 else json_values()
        )
    if isinstance(template, list):
        return mostly(template, st.lists(near(template[0]), max_size=3) | json_values()).flatmap(
            lambda value: st.tuples(*(near(item) for item in value)).map(list) if value is template else st.just(value)
        )
    if isinstance(template, bool) or template is None:
        return mostly(template, json_values())
    if isinstance(template, int):
        return mostly(template, EDGE_INTEGERS | st.integers() | json_values())
    if isinstance(template, str):
        return mostly(template, NASTY_TEXT | NASTY_TEXT | json_values())
    return mostly(template, json_values())


def encode(value: Any, ascii_only: bool) -> bytes:
    # allow_nan: NaN/Infinity tokens are not JSON; surrogatepass: lone surrogates become invalid UTF-8.
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", "surrogatepass")


def nested(depth: int, opener: bytes, closer: bytes) -> bytes:
    return opener * depth + closer * depth


DEEP = st.builds(
    nested,
    st.integers(min_value=1, max_value=30_000),
    st.sampled_from([b"[", b'{"code":']),
    st.sampled_from([b"]", b"}"]),
)


def bodies(template: Any) -> st.SearchStrategy[bytes]:
    """Request bodies: mostly near-valid JSON, plus garbage, truncated JSON and deep nesting."""
    near_valid = st.builds(encode, near(template), st.booleans())
    truncated = st.builds(lambda raw, cut: raw[:cut], near_valid, st.integers(min_value=0, max_value=60))
    return st.one_of(
        near_valid,
        near_valid,
        near_valid,
        st.builds(encode, json_values(), st.booleans()),
        truncated,
        st.binary(max_size=300),
        DEEP,
    )


# Header values as bytes: latin-1 text, sometimes long (16 KB), sometimes with a NUL byte.
HEADER_VALUES = st.one_of(
    st.binary(max_size=64).map(lambda raw: bytes(b for b in raw if b not in (10, 13))),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=64).map(
        lambda text: text.encode("latin-1")
    ),
    st.integers(min_value=1_000, max_value=16_000).map(lambda n: b"A" * n),
)
HEADER_NAMES = st.sampled_from(
    [
        "X-Session-Id",
        "Authorization",
        "Content-Type",
        "Content-Length-Junk",
        "X-Correlation-ID",
        "X-Request-ID",
        "Idempotency-Key",
        "X-Forwarded-For",
        "Origin",
        "Accept",
        "X-Custom",
    ]
)
EXTRA_HEADERS = st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=3)

PATH_SEGMENTS = st.one_of(
    st.text(max_size=80).map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe="")),
    st.binary(max_size=40).map(lambda raw: quote(raw, safe="")),
    st.sampled_from(["%00", "..", "%2e%2e", "%ff%fe", "a" * 5000, "%", "%zz", "x%00y"]),
)
METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
