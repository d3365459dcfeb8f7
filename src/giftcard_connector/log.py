"""One JSON log stream on stderr (structlog). Card codes and PINs never reach a log line whole.

Our own lines go through structlog directly; every standard-library record (uvicorn's, the ledger's,
aiohttp's, alembic's) goes through the same structlog processors by way of a ProcessorFormatter on the
root handler, so an operator's log shipper reads one format: one JSON object per line with `event`,
`level`, `logger`, `timestamp` and, inside a request, `correlation_id`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from giftcard_connector.context import correlation_id

# uvicorn's own loggers: with log_config=None uvicorn leaves them handler-less, so they reach the root
# handler below; clear any handler a previous configuration gave them so no plain-text line slips out.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def _add_correlation_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    value = correlation_id.get()
    if value is not None:
        event.setdefault("correlation_id", value)
    return event


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _dumps(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(serializer=_dumps),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # httpx (used by the devkit and tests, not by the services) logs every request URL at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    structlog.configure(
        processors=[
            structlog.stdlib.add_logger_name,
            *_shared_processors(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
        # Our own lines skip the logging module (a fraction of the CPU per line) but write to the same
        # stream, one whole line per write.
        logger_factory=_logger_factory,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's fast line writer, keeping the name given to get_logger(name) for the `logger` key."""

    def __init__(self, file: Any, name: str | None) -> None:
        super().__init__(file)
        self.name = name or "giftcard_connector"


def _logger_factory(*args: Any) -> _NamedWriteLogger:
    return _NamedWriteLogger(sys.stderr, str(args[0]) if args else None)


def mask_code(code: str) -> str:
    """Only the last four characters of a card code are ever shown."""
    tail = code[-4:] if len(code) > 4 else ""
    return f"****{tail}"
