"""ASGI middleware: the fast lane for `POST /v1/redemptions` on PostgreSQL.

py-spy on `ledger serve` showed that, once a debit was one database call, about half of the ledger's
CPU per debit went to FastAPI's routing, dependency solving and validation layers. This lane answers
a well-formed debit straight from the ASGI scope: pydantic (Rust) parses the body into the route's
own schema, LedgerService.redeem_with_key does the rest in one database call, and the reply bytes the
database built are sent as they are.

Anything out of the ordinary is handed to the full app unchanged (the buffered body is replayed), so
every error answer keeps coming from one place: a body that does not validate, a missing or malformed
Authorization or Idempotency-Key header, an unknown key, a failure of the fast call (the general path
then retries under the same Idempotency-Key, which makes that safe).
"""

from __future__ import annotations

import logging

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from giftcard_connector.ledger.debits import RawReply
from giftcard_connector.ledger.idempotency import MAX_KEY_LENGTH, fingerprint
from giftcard_connector.ledger.schemas import AmountOnCard
from giftcard_connector.ledger.service import LedgerService

log = logging.getLogger("giftcard_connector.ledger.debit_lane")
PATH = "/v1/redemptions"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class DebitLane:
    def __init__(self, app: ASGIApp, service: LedgerService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.service.fast_debits is None
            or scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
        ):
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        token, key = _credentials(scope)
        reply = None
        if token and key and not more:
            reply = await self._debit(token, key, body)
        if reply is None:
            await self.app(scope, _replay(body, more, receive), send)
            return
        headers = [*_JSON_HEADERS, (b"content-length", str(len(reply.content)).encode())]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.content})

    async def _debit(self, token: str, key: str, body: bytes) -> RawReply | None:
        try:
            request = AmountOnCard.model_validate_json(body, strict=True)
        except ValidationError:
            return None
        payload = request.model_dump(mode="json", by_alias=True)
        request_print = fingerprint(self.service.secret, "POST", PATH, payload)
        try:
            reply = await self.service.redeem_with_key(
                token, key, request_print, request.code, request.pin, request.amount.money()
            )
        except Exception as error:  # the general path answers (or maps the error) under the same key
            log.warning("debit fast lane failed (%s); handing over to the general path", type(error).__name__)
            return None
        if reply is None or isinstance(reply, RawReply):
            return reply
        return RawReply(reply.status, orjson.dumps(reply.body))


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, or what was read before a message that was not body (then handed on)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, pending: Message | None, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return pending if pending is not None else await receive()

    return replay


def _credentials(scope: Scope) -> tuple[str | None, str | None]:
    token = key = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            token = rest.strip() if scheme.lower() == "bearer" and rest.strip() else None
        elif name == b"idempotency-key":
            text = value.decode("latin-1")
            key = text if 0 < len(text) <= MAX_KEY_LENGTH else None
    return token, key
