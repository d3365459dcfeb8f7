"""Per-request context carried implicitly to every upstream call (correlation id)."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str:
    value = correlation_id.get()
    if value is None:
        value = str(uuid.uuid4())
        correlation_id.set(value)
    return value


# True when the caller sent its own X-Correlation-ID: it then wins over the session's metadata.
caller_sent_correlation_id: ContextVar[bool] = ContextVar("caller_sent_correlation_id", default=False)
