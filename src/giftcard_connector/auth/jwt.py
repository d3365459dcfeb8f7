"""Merchant Center JWT authentication (GET /operations/status): JWKS keys by kid, with a lifetime."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import orjson
import structlog

from giftcard_connector.auth.bearer import bearer_token
from giftcard_connector.errors import AuthError
from giftcard_connector.observability.upstream import upstream_call

log = structlog.get_logger(__name__)

# Only asymmetric algorithms: `none` and HS* would let anyone holding the public key forge tokens.
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
# An EC key signs with exactly one algorithm, fixed by its curve (RFC 7518 section 3.4).
EC_ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
ALLOWED_ALGORITHMS = RSA_ALGORITHMS | frozenset(EC_ALGORITHM_BY_CURVE.values())
# Keys are trusted for this long after a fetch; then the next token refetches, so a key removed from
# the JWKS stops being trusted without a restart.
DEFAULT_KEY_LIFETIME = 300.0
# An unknown kid refetches at most this often, so forged kids cannot hammer the JWKS.
DEFAULT_REFETCH_COOLDOWN = 10.0


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A JWKS key and the algorithms a token signed by it may name."""

    jwk: jwt.PyJWK
    algorithms: frozenset[str]


def algorithms_for(data: dict[str, Any]) -> frozenset[str]:
    """The algorithms a JWK may verify: its family (RSA: RS*/PS*, EC: the curve's ES*), narrowed to
    its declared `alg` when it names one. Any other key type verifies nothing."""
    kty = data.get("kty")
    if kty == "RSA":
        family = RSA_ALGORITHMS
    elif kty == "EC":
        curve_alg = EC_ALGORITHM_BY_CURVE.get(str(data.get("crv")))
        family = frozenset({curve_alg}) if curve_alg else frozenset()
    else:
        family = frozenset()
    declared = data.get("alg")
    if declared is not None:
        family = family & {declared} if isinstance(declared, str) else frozenset()
    if data.get("use", "sig") != "sig":
        return frozenset()
    return family


def parse_jwks(document: Any) -> dict[str, TrustedKey]:
    """The usable signing keys of a JWKS document by kid; unusable keys are skipped, not fatal."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ValueError("the JWKS has no 'keys' list")
    trusted: dict[str, TrustedKey] = {}
    for data in keys:
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str):
            continue
        algorithms = algorithms_for(data)
        if not algorithms:
            continue
        try:
            key = jwt.PyJWK(data, algorithm=min(algorithms))
        except (jwt.PyJWTError, ValueError, TypeError):
            continue
        trusted[data["kid"]] = TrustedKey(key, algorithms)
    return trusted


class JwksCache:
    """The JWKS keys, refetched after `lifetime` seconds and on an unknown kid (at most once per
    `cooldown`). A failed fetch keeps the previous keys: it tells nothing about which were removed."""

    def __init__(
        self,
        url: str,
        http: aiohttp.ClientSession,
        *,
        lifetime: float = DEFAULT_KEY_LIFETIME,
        cooldown: float = DEFAULT_REFETCH_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._http = http
        self._lifetime = lifetime
        self._cooldown = cooldown
        self._clock = clock
        self._keys: dict[str, TrustedKey] = {}
        self._fetched_at = float("-inf")  # last successful fetch
        self._tried_at = float("-inf")  # last attempt, successful or not
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> TrustedKey | None:
        if self._needs_fetch(kid):
            async with self._lock:
                if self._needs_fetch(kid):  # another request may have fetched while we waited
                    await self._refresh()
        return self._keys.get(kid)

    def _needs_fetch(self, kid: str) -> bool:
        now = self._clock()
        if now - self._tried_at < self._cooldown:
            return False
        return now - self._fetched_at >= self._lifetime or kid not in self._keys

    async def _refresh(self) -> None:
        self._tried_at = self._clock()
        try:
            with upstream_call("merchant_center_jwks") as call:
                async with self._http.get(self._url, raise_for_status=True) as response:
                    call.status = response.status
                    keys = parse_jwks(orjson.loads(await response.read()))
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("jwks_fetch_failed", error=type(error).__name__)
            return
        self._keys = keys
        self._fetched_at = self._tried_at


class JwtVerifier:
    def __init__(self, jwks: JwksCache, issuer: str, project_key: str) -> None:
        self._jwks = jwks
        self._issuer = issuer
        self._project_key = project_key
        self._project_claim = f"{issuer.rstrip('/')}/claims/project_key"

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("invalid_token", "The token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise AuthError("invalid_token", "The token's algorithm is not accepted")
        kid = header.get("kid")
        key = await self._jwks.key(kid) if isinstance(kid, str) and kid else None
        if key is None:
            raise AuthError("invalid_token", "The token was not signed by a known key")
        # The key decides the algorithm family: an ES256 header naming an RSA key's kid is refused
        # here instead of reaching the crypto library with a key of the wrong type.
        if algorithm not in key.algorithms:
            raise AuthError("invalid_token", "The token's algorithm does not match its key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.jwk.key,
                algorithms=[algorithm],
                issuer=self._issuer,
                options={"require": ["exp", "iss"], "verify_aud": False},
                leeway=30,
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("invalid_token", "The token has expired") from None
        except jwt.InvalidIssuerError:
            raise AuthError("invalid_token", "The token's issuer is not accepted") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthError("invalid_token", f"The token lacks the '{error.claim}' claim") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            # ValueError/TypeError: the crypto layer refusing a malformed signature; still a bad token.
            raise AuthError("invalid_token", "The token's signature is not valid") from None
        if claims.get(self._project_claim) != self._project_key:
            raise AuthError("invalid_token", "The token is not for this project")
        return claims
