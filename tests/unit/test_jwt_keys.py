"""JWT keys: the key chosen by kid decides the algorithm family; JWKS keys live for a bounded time.

The JWKS is served by a real local HTTP server (the network edge); tokens are signed here with PyJWT.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from giftcard_connector.auth.jwt import (
    ALLOWED_ALGORITHMS,
    JwksCache,
    JwtVerifier,
    algorithms_for,
)
from giftcard_connector.errors import AuthError
from tests.support.scripted_http import ScriptedServer, json_body, json_response

ISSUER = "https://mc.example"
PROJECT = "shop"


@dataclass
class Signer:
    kid: str
    private: Any
    jwk: dict[str, Any]


def _rsa(kid: str) -> Signer:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Signer(kid, private, {**json.loads(RSAAlgorithm.to_jwk(private.public_key())), "kid": kid})


def _ec(kid: str, curve: ec.EllipticCurve) -> Signer:
    private = ec.generate_private_key(curve)
    return Signer(kid, private, {**json.loads(ECAlgorithm.to_jwk(private.public_key())), "kid": kid})


SIGNERS = {
    "rsa": _rsa("rsa-key"),
    "ec-p256": _ec("ec256-key", ec.SECP256R1()),
    "ec-p384": _ec("ec384-key", ec.SECP384R1()),
    "ec-p521": _ec("ec521-key", ec.SECP521R1()),
}
# Which algorithm may each key verify (RFC 7518: RSA keys RS*/PS*, EC keys the ES* of their curve).
FITS = {
    "rsa": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
    "ec-p256": {"ES256"},
    "ec-p384": {"ES384"},
    "ec-p521": {"ES512"},
}
# A private key able to produce a signature for each algorithm (an attacker's, for the mismatches).
ATTACKER_RSA = _rsa("attacker")
ATTACKER_EC = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}


def claims(**extra: Any) -> dict[str, Any]:
    return {"iss": ISSUER, f"{ISSUER}/claims/project_key": PROJECT, "exp": int(time.time()) + 600, **extra}


def sign(private: Any, algorithm: str, kid: str, **header: Any) -> str:
    return jwt.encode(claims(), private, algorithm=algorithm, headers={"kid": kid, **header})


def signing_key_for(algorithm: str, key_name: str) -> Any:
    """The key's own private key when it fits the algorithm, else a foreign key of the algorithm's type."""
    if algorithm in FITS[key_name]:
        return SIGNERS[key_name].private
    if algorithm.startswith(("RS", "PS")):
        return SIGNERS["rsa"].private if key_name != "rsa" else ATTACKER_RSA.private
    return ec.generate_private_key(ATTACKER_EC[algorithm])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def jwks() -> AsyncIterator[tuple[ScriptedServer, str]]:
    server = ScriptedServer()
    server.on("GET", "/jwks", json_response(200, {"keys": [s.jwk for s in SIGNERS.values()]}))
    async with server.serving() as base:
        yield server, f"{base}/jwks"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def verifier_for(url: str, http: aiohttp.ClientSession, clock: Clock | None = None) -> JwtVerifier:
    cache = JwksCache(url, http, lifetime=300, cooldown=10, clock=clock or Clock())
    return JwtVerifier(cache, ISSUER, PROJECT)


COMBINATIONS = [(name, alg) for name in SIGNERS for alg in sorted(ALLOWED_ALGORITHMS)]


@pytest.mark.parametrize(("key_name", "algorithm"), COMBINATIONS, ids=[f"{k}-{a}" for k, a in COMBINATIONS])
async def test_each_key_type_and_algorithm(jwks, http, key_name: str, algorithm: str) -> None:
    _, url = jwks
    token = sign(signing_key_for(algorithm, key_name), algorithm, SIGNERS[key_name].kid)
    verifier = verifier_for(url, http)
    if algorithm in FITS[key_name]:
        assert (await verifier.verify(f"Bearer {token}"))["iss"] == ISSUER
        return
    with pytest.raises(AuthError) as caught:
        await verifier.verify(f"Bearer {token}")
    assert caught.value.status_code == 401
    assert caught.value.body()["error"] == "invalid_token"
    assert "does not match its key" in caught.value.message


async def test_es256_header_on_the_rsa_kid_is_401_not_a_crash(jwks, http) -> None:
    """The reported bug: PyJWT raised TypeError (-> 500) for an EC algorithm with an RSA key."""
    _, url = jwks
    token = sign(ec.generate_private_key(ec.SECP256R1()), "ES256", SIGNERS["rsa"].kid)
    with pytest.raises(AuthError) as caught:
        await verifier_for(url, http).verify(f"Bearer {token}")
    assert caught.value.status_code == 401


async def test_a_declared_alg_narrows_the_family(jwks, http) -> None:
    server, url = jwks
    declared = {**SIGNERS["rsa"].jwk, "alg": "RS256"}
    server.on("GET", "/jwks", json_response(200, {"keys": [declared]}))
    verifier = verifier_for(url, http)
    assert await verifier.verify(f"Bearer {sign(SIGNERS['rsa'].private, 'RS256', 'rsa-key')}")
    with pytest.raises(AuthError, match="does not match"):
        await verifier.verify(f"Bearer {sign(SIGNERS['rsa'].private, 'PS256', 'rsa-key')}")


@pytest.mark.parametrize(
    ("jwk", "expected"),
    [
        ({"kty": "RSA"}, FITS["rsa"]),
        ({"kty": "RSA", "alg": "PS384"}, {"PS384"}),
        ({"kty": "RSA", "alg": "ES256"}, set()),
        ({"kty": "RSA", "use": "enc"}, set()),
        ({"kty": "EC", "crv": "P-256"}, {"ES256"}),
        ({"kty": "EC", "crv": "P-256", "alg": "ES384"}, set()),
        ({"kty": "EC", "crv": "secp256k1"}, set()),
        ({"kty": "oct"}, set()),
        ({"kty": "OKP", "crv": "Ed25519"}, set()),
        ({"kty": "RSA", "alg": ["RS256"]}, set()),
    ],
)
def test_algorithms_a_key_may_verify(jwk: dict[str, Any], expected: set[str]) -> None:
    assert algorithms_for(jwk) == expected


@pytest.mark.parametrize(
    "header",
    [{"alg": ["RS256"]}, {"alg": None}, {"kid": 12}, {"kid": {"a": 1}}, {"kid": ""}],
    ids=["alg-list", "alg-null", "kid-int", "kid-object", "kid-empty"],
)
async def test_odd_header_values_are_401(jwks, http, header: dict[str, Any]) -> None:
    _, url = jwks
    token = jwt.api_jws.PyJWS().encode(
        json.dumps(claims()).encode(), SIGNERS["rsa"].private, algorithm="RS256", headers={"kid": "rsa-key"}
    )
    _head, payload, signature = token.split(".")
    forged_header = {"alg": "RS256", "kid": "rsa-key", "typ": "JWT", **header}
    forged = jwt.utils.base64url_encode(json.dumps(forged_header).encode()).decode()
    with pytest.raises(AuthError) as caught:
        await verifier_for(url, http).verify(f"Bearer {forged}.{payload}.{signature}")
    assert caught.value.status_code == 401


async def test_a_removed_key_is_trusted_until_its_lifetime_ends(jwks, http) -> None:
    server, url = jwks
    clock = Clock()
    verifier = verifier_for(url, http, clock)
    token = sign(SIGNERS["rsa"].private, "RS256", "rsa-key")
    assert await verifier.verify(f"Bearer {token}")
    server.on("GET", "/jwks", json_response(200, {"keys": [SIGNERS["ec-p256"].jwk]}))  # RSA key removed

    clock.now += 299
    assert await verifier.verify(f"Bearer {token}")  # within the lifetime: cached, no fetch
    assert server.count("GET", "/jwks") == 1

    clock.now += 2
    with pytest.raises(AuthError, match="known key"):
        await verifier.verify(f"Bearer {token}")
    assert server.count("GET", "/jwks") == 2


async def test_an_unknown_kid_refetches_with_a_cooldown(jwks, http) -> None:
    server, url = jwks
    clock = Clock()
    verifier = verifier_for(url, http, clock)
    assert await verifier.verify(f"Bearer {sign(SIGNERS['rsa'].private, 'RS256', 'rsa-key')}")
    rotated = _rsa("new-key")
    server.on("GET", "/jwks", json_response(200, {"keys": [SIGNERS["rsa"].jwk, rotated.jwk]}))
    new_token = f"Bearer {sign(rotated.private, 'RS256', 'new-key')}"

    clock.now += 1  # inside the cooldown after the first fetch: a forged kid cannot force a fetch
    for _ in range(5):
        with pytest.raises(AuthError):
            await verifier.verify(new_token)
    assert server.count("GET", "/jwks") == 1

    clock.now += 10
    assert await verifier.verify(new_token)  # the rotated key is found without a restart
    assert server.count("GET", "/jwks") == 2


async def test_a_failed_refetch_keeps_the_previous_keys(jwks, http) -> None:
    server, url = jwks
    clock = Clock()
    verifier = verifier_for(url, http, clock)
    token = f"Bearer {sign(SIGNERS['rsa'].private, 'RS256', 'rsa-key')}"
    assert await verifier.verify(token)
    server.on("GET", "/jwks", lambda _r, _b: json_body(503, {"message": "down"}))
    clock.now += 301
    assert await verifier.verify(token)  # the JWKS being down says nothing about removed keys
    assert server.count("GET", "/jwks") == 2
    clock.now += 5
    assert await verifier.verify(token)  # and the retry waits for the cooldown
    assert server.count("GET", "/jwks") == 2


async def test_unusable_keys_in_the_jwks_are_skipped(jwks, http) -> None:
    server, url = jwks
    junk = [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}, {"kid": "no-kty"}, "not-an-object", {"kty": "RSA"}]
    server.on("GET", "/jwks", json_response(200, {"keys": [*junk, SIGNERS["rsa"].jwk]}))
    assert await verifier_for(url, http).verify(f"Bearer {sign(SIGNERS['rsa'].private, 'RS256', 'rsa-key')}")
