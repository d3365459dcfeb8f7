"""Errors of the ledger API: each carries the HTTP status and a stable machine-readable code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The one answer for an unknown code, a wrong or missing PIN and a locked card: anything more
# specific would tell a guesser that the code exists.
NOT_FOUND_MESSAGE = "card not found or PIN incorrect"


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer of the service: HTTP status plus JSON body (stored as is for idempotent replays)."""

    status: int
    body: dict[str, Any]


@dataclass(slots=True)
class LedgerError(Exception):
    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def reply(self) -> Reply:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return Reply(self.status, {"error": error})


def not_found(message: str = NOT_FOUND_MESSAGE) -> LedgerError:
    return LedgerError(404, "not_found", message)


def invalid(message: str, field_name: str | None = None) -> LedgerError:
    return LedgerError(422, "invalid_request", message, {"field": field_name} if field_name else {})


def conflict(code: str, message: str, **details: Any) -> LedgerError:
    return LedgerError(409, code, message, details)


def refused(code: str, message: str, **details: Any) -> LedgerError:
    """A business refusal: the request was well formed but the card cannot do it."""
    return LedgerError(422, code, message, details)
