"""Merchant Center JWT authentication (GET /operations/status): JWKS with a key cache by kid."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import jwt
import orjson
import structlog
from fastapi import Request

from giftcard_connector.auth.bearer import bearer_token
from giftcard_connector.errors import AuthError

log = structlog.get_logger(__name__)

# Only asymmetric algorithms: `none` and HS* would let anyone holding the public key forge tokens.
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
# An unknown kid triggers a refetch at most this often, so forged kids cannot hammer the JWKS.
_REFETCH_INTERVAL = 10.0


class JwksCache:
    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self._url = url
        self._http = http
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= _REFETCH_INTERVAL:
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with self._http.get(self._url, raise_for_status=True) as response:
                document = orjson.loads(await response.read())
            keys = jwt.PyJWKSet.from_dict(document).keys
        except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWTError) as error:
            log.warning("jwks_fetch_failed", error=type(error).__name__)
            return
        self._keys = {str(key.key_id): key for key in keys if key.key_id}


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
        if algorithm not in ALLOWED_ALGORITHMS:
            raise AuthError("invalid_token", f"The token's algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        key = await self._jwks.key(str(kid)) if kid else None
        if key is None:
            raise AuthError("invalid_token", "The token was not signed by a known key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
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
        except jwt.PyJWTError:
            raise AuthError("invalid_token", "The token's signature is not valid") from None
        if claims.get(self._project_claim) != self._project_key:
            raise AuthError("invalid_token", "The token is not for this project")
        return claims


async def require_jwt(request: Request) -> dict[str, Any]:
    verifier: JwtVerifier = request.app.state.services.jwt_verifier
    return await verifier.verify(request.headers.get("authorization"))
