"""Reading `Authorization: Bearer <token>` with the contract's error codes."""

from __future__ import annotations

from giftcard_connector.errors import AuthError


def bearer_token(header: str | None) -> str:
    if not header:
        raise AuthError("access_denied", "Missing Authorization header")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AuthError("invalid_request", "Authorization header must be 'Bearer <token>'")
    return token
