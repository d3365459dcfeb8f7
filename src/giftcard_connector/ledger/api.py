"""The ledger's HTTP API (`/v1`): parses requests, checks API keys, hands over to LedgerService."""

# No `from __future__ import annotations`: FastAPI must see the route annotations, which name
# dependency aliases local to create_app, as real objects.
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from giftcard_connector.edge import TOO_LARGE_MESSAGE, install_edge
from giftcard_connector.ledger import schemas
from giftcard_connector.ledger.apikeys import Role, find_key
from giftcard_connector.ledger.dberrors import Cause, classify
from giftcard_connector.ledger.debit_lane import DebitLane
from giftcard_connector.ledger.errors import LedgerError, Reply
from giftcard_connector.ledger.idempotency import MAX_KEY_LENGTH, IdempotencyRequest, fingerprint
from giftcard_connector.ledger.models import CardStatus
from giftcard_connector.ledger.operations import operation_status
from giftcard_connector.ledger.service import LedgerService

log = logging.getLogger("giftcard_connector.ledger.api")
ObjectId = Annotated[str, Path(min_length=1, max_length=64)]


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


ERROR_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
# The largest request (an issue or an adjustment with a note) is well under 1 KB.
MAX_BODY_BYTES = 64 * 1024


def render_error(status: int, message: str) -> bytes:
    code = ERROR_CODES.get(status, "internal_error")
    return orjson.dumps(LedgerError(status, code, message.lower()).reply().body)


def log_unhandled(error: Exception) -> None:
    log.error("unexpected ledger error", exc_info=error)


def error_response(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse(LedgerError(status, code, message, details).reply().body, status_code=status)


def respond(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body, status_code=reply.status)


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    role: Role


class ApiKeys:
    """Checks a bearer key against the database on every request, with no cache: a key revoked with
    `ledger keys revoke` stops working at once, in every worker process. (The debit hot path checks
    the key inside its single database call instead.)"""

    def __init__(self, service: LedgerService) -> None:
        self._service = service

    async def caller(self, plaintext: str) -> Caller | None:
        async with self._service.database.transaction() as session:
            record = await find_key(session, plaintext)
        return None if record is None else Caller(record.id, Role(record.role))


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class JSONBodies:
    """Read every request body as JSON whatever its Content-Type (curl sends form encoding by
    default), so a body that is not JSON is answered `invalid_json`, not a confusing type error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(name, value) for name, value in scope["headers"] if name != b"content-type"]
            # In place, not a copy: the request observer outside reads the matched route from this scope.
            scope["headers"] = [*headers, (b"content-type", b"application/json")]
        await self.app(scope, receive, send)


def create_app(service: LedgerService, *, lifespan: Any = None) -> FastAPI:
    # No docs and no /openapi.json: the API is for the Processor and the ledger's own tools.
    app = FastAPI(
        title="Gift card ledger", version="1", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_middleware(JSONBodies)
    app.add_middleware(DebitLane, service=service)  # inside the edge checks (NUL bytes, body size)
    install_edge(app, max_body_bytes=MAX_BODY_BYTES, render=render_error, log_error=log_unhandled)
    keys = ApiKeys(service)
    _install_error_handlers(app)

    async def authenticate(authorization: Annotated[str | None, Header()] = None) -> Caller:
        token = _bearer(authorization)
        caller = await keys.caller(token) if token else None
        if caller is None:
            raise LedgerError(401, "unauthorized", "missing or invalid API key")
        return caller

    def role(required: Role) -> Callable[[Caller], Awaitable[Caller]]:
        async def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
            if required is Role.ADMIN and caller.role is not Role.ADMIN:
                raise LedgerError(403, "forbidden", "this API key may not do that")
            return caller

        return check

    Processor = Annotated[Caller, Depends(role(Role.PROCESSOR))]
    Admin = Annotated[Caller, Depends(role(Role.ADMIN))]

    def idempotency(request: Request, caller: Caller, key: str | None, body: BaseModel | None) -> IdempotencyRequest:
        if not key:
            raise LedgerError(400, "idempotency_key_required", "send an Idempotency-Key header on every change")
        if len(key) > MAX_KEY_LENGTH:
            raise LedgerError(400, "invalid_idempotency_key", f"Idempotency-Key is longer than {MAX_KEY_LENGTH}")
        payload = None if body is None else body.model_dump(mode="json", by_alias=True)
        return IdempotencyRequest(
            caller.key_id, key, fingerprint(service.secret, request.method, request.url.path, payload)
        )

    IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]
    v1 = APIRouter(prefix="/v1")

    @v1.get("/health")
    async def health(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        try:
            await service.health()
        except Exception as error:  # any failure means "not ready"; say which kind, not the details
            log.warning("ledger health check failed: %s", type(error).__name__)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        body: dict[str, Any] = {"status": "ok", "database": "ok"}
        if authorization is not None:
            token = _bearer(authorization)
            caller = await keys.caller(token) if token else None
            body["apiKey"] = "invalid" if caller is None else "valid"
            if caller is not None:
                body["role"] = caller.role.value
        return JSONResponse(body)

    # -- processor ------------------------------------------------------------------------------

    @v1.post("/cards/balance")
    async def balance(body: schemas.CardCredentials, _: Processor) -> JSONResponse:
        return respond(await service.balance(body.code, body.pin))

    @v1.post("/redemptions")
    async def redeem(body: schemas.AmountOnCard, request: Request, caller: Processor, key: IdemKey = None) -> Response:
        # The general path; on PostgreSQL a plain debit is answered by DebitLane before it gets here.
        idem = idempotency(request, caller, key, body)
        return respond(await service.redeem(body.code, body.pin, body.amount.money(), idem))

    @v1.post("/holds")
    async def authorize(
        body: schemas.AmountOnCard, request: Request, caller: Processor, key: IdemKey = None
    ) -> Response:
        idem = idempotency(request, caller, key, body)
        return respond(await service.authorize(body.code, body.pin, body.amount.money(), idem))

    @v1.post("/holds/{hold_id}/capture")
    async def capture(
        hold_id: ObjectId,
        request: Request,
        caller: Processor,
        key: IdemKey = None,
        body: schemas.OptionalAmount | None = None,
    ) -> Response:
        idem = idempotency(request, caller, key, body)
        amount = body.amount.money() if body and body.amount else None
        return respond(await service.capture(hold_id, amount, idem))

    @v1.post("/holds/{hold_id}/void")
    async def void(hold_id: ObjectId, request: Request, caller: Processor, key: IdemKey = None) -> Response:
        return respond(await service.void(hold_id, idempotency(request, caller, key, None)))

    @v1.post("/redemptions/{redemption_id}/refunds")
    async def refund(
        redemption_id: ObjectId, body: schemas.Amount, request: Request, caller: Processor, key: IdemKey = None
    ) -> Response:
        idem = idempotency(request, caller, key, body)
        return respond(await service.refund(redemption_id, body.amount.money(), idem))

    @v1.get("/operations")
    async def operation(
        caller: Processor, idempotency_key: Annotated[str, Query(alias="idempotencyKey", min_length=1)]
    ) -> Response:
        """What became of this caller's change sent with this Idempotency-Key (for reconciliation)."""
        if len(idempotency_key) > MAX_KEY_LENGTH:
            raise LedgerError(400, "invalid_idempotency_key", f"idempotencyKey is longer than {MAX_KEY_LENGTH}")
        return respond(await operation_status(service.database, caller.key_id, idempotency_key))

    # -- admin ----------------------------------------------------------------------------------

    @v1.post("/cards")
    async def issue(body: schemas.IssueRequest, request: Request, caller: Admin, key: IdemKey = None) -> Response:
        idem = idempotency(request, caller, key, body)
        return respond(
            await service.issue(
                body.amount.money(), pin=body.pin, expires_on=body.expires_at, count=body.count, idempotency=idem
            )
        )

    @v1.post("/cards/lookup")
    async def lookup(body: schemas.CardCode, _: Admin) -> Response:
        return respond(await service.lookup(body.code))

    @v1.post("/cards/history")
    async def history(body: schemas.CardCode, _: Admin) -> Response:
        return respond(await service.history(body.code))

    @v1.post("/cards/reload")
    async def reload(body: schemas.Reload, request: Request, caller: Admin, key: IdemKey = None) -> Response:
        idem = idempotency(request, caller, key, body)
        return respond(await service.reload(body.code, body.amount.money(), idem))

    @v1.post("/cards/adjust")
    async def adjust(body: schemas.Adjust, request: Request, caller: Admin, key: IdemKey = None) -> Response:
        if body.amount.cent_amount == 0:
            raise LedgerError(422, "invalid_request", "an adjustment must not be zero", {"field": "amount.centAmount"})
        idem = idempotency(request, caller, key, body)
        return respond(await service.adjust(body.code, body.amount.money(), body.note, idem))

    @v1.post("/cards/deactivate")
    async def deactivate(body: schemas.CardCode, request: Request, caller: Admin, key: IdemKey = None) -> Response:
        idem = idempotency(request, caller, key, body)
        return respond(await service.set_status(body.code, CardStatus.DISABLED, idem))

    @v1.post("/cards/activate")
    async def activate(body: schemas.CardCode, request: Request, caller: Admin, key: IdemKey = None) -> Response:
        idem = idempotency(request, caller, key, body)
        return respond(await service.set_status(body.code, CardStatus.ACTIVE, idem))

    @v1.post("/cards/unlock")
    async def unlock(body: schemas.CardCode, request: Request, caller: Admin, key: IdemKey = None) -> Response:
        """Lift a PIN lockout (the card stays active; its wrong-PIN count starts again at zero)."""
        idem = idempotency(request, caller, key, body)
        return respond(await service.unlock(body.code, idem))

    app.include_router(v1)
    return app


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "header", "path", "query")]
    return ".".join(parts) or "body"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, error: LedgerError) -> Response:
        return respond(error.reply())

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return error_response(400, "invalid_json", "the body is not valid JSON")
        first = problems[0] if problems else {}
        field = _field(tuple(first.get("loc", ())))
        if first.get("type") == "missing":
            return error_response(422, "invalid_request", f"{field} is required", field=field)
        return error_response(422, "invalid_request", f"{field}: {first.get('msg', 'invalid value')}", field=field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> Response:
        code = ERROR_CODES.get(error.status_code, "http_error")
        message = TOO_LARGE_MESSAGE if error.status_code == 413 else str(error.detail)
        return error_response(error.status_code, code, message)

    # Not a handler for Exception: Starlette would run it outside the middlewares. The remaining 500s
    # are EdgeGuard's (giftcard_connector.edge).
    async def database_error(_: Request, error: Exception) -> Response:
        cause = classify(error)
        if cause is Cause.OUTAGE:
            log.error("ledger database unavailable: %s", type(error).__name__)
            return error_response(503, "unavailable", "the ledger database is unavailable")
        if cause is Cause.INPUT:
            log.info("ledger refused a value the database cannot store: %s", type(error).__name__)
            return error_response(400, "invalid_request", "the request contains a value the ledger cannot store")
        log.error("unexpected ledger error", exc_info=error)
        return error_response(500, "internal_error", "internal error")

    for kind in (DBAPIError, OSError, UnicodeError, OverflowError):
        app.add_exception_handler(kind, database_error)
