"""Session authentication (X-Session-Id) for the Enabler-facing routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError

from giftcard_connector.commercetools.client import UPSTREAM_AUTH_FAILED, CommercetoolsClient
from giftcard_connector.commercetools.models import CheckoutSession
from giftcard_connector.context import caller_sent_correlation_id, correlation_id
from giftcard_connector.errors import ApiError, SessionNotActive

log = structlog.get_logger(__name__)

# Session ids are UUID-like tokens; anything else cannot name a session and is refused without a call.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


@dataclass(frozen=True, slots=True)
class SessionContext:
    session_id: str
    cart_id: str
    metadata: dict[str, Any]

    @property
    def payment_interface(self) -> str | None:
        value = self.metadata.get("paymentInterface")
        return str(value) if value else None


async def authenticate_session(client: CommercetoolsClient, session_id: str | None) -> SessionContext:
    if not session_id or not _SESSION_ID.match(session_id):
        raise SessionNotActive()
    try:
        session = await client.get_session(session_id)
    except ApiError as error:
        if error.code == UPSTREAM_AUTH_FAILED:
            raise  # our own credentials are wrong: say so (502), not "session is not active"
        log.warning("session_lookup_failed", status=error.status_code, code=error.code)
        raise SessionNotActive() from None
    if session is None:
        raise SessionNotActive()
    try:
        checkout = CheckoutSession.model_validate(session)
    except ValidationError:
        log.warning("session_answer_unusable")
        raise SessionNotActive() from None
    if not checkout.usable or checkout.cart_id is None:
        raise SessionNotActive()
    metadata = checkout.metadata
    if metadata.get("correlationId") and not caller_sent_correlation_id.get():
        correlation_id.set(str(metadata["correlationId"]))
    return SessionContext(session_id=session_id, cart_id=checkout.cart_id, metadata=metadata)
