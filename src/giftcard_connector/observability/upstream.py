"""Timing of one upstream HTTP call: the upstream metrics, and a client span when tracing is on.

    with upstream_call("commercetools_api", headers) as call:
        async with http.request(...) as answer:
            call.status = answer.status

The outcome is the status class (2xx, 4xx, ...), or `timeout` / `error` when the call raised.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING

from giftcard_connector.observability import tracing
from giftcard_connector.observability.metrics import observe_upstream

if TYPE_CHECKING:
    from opentelemetry.trace import Span


class UpstreamCall:
    __slots__ = ("_headers", "_span", "_started", "status", "target")

    def __init__(self, target: str, headers: MutableMapping[str, str] | None = None) -> None:
        self.target = target
        self.status: int | None = None
        self._headers = headers
        self._span: Span | None = None
        self._started = 0.0

    def __enter__(self) -> UpstreamCall:
        self._span = tracing.start_client_span(self.target, self._headers)
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        seconds = time.perf_counter() - self._started
        if self.status is None and isinstance(getattr(error, "status", None), int):
            self.status = error.status  # type: ignore[union-attr]  # aiohttp's raise_for_status
        if kind is not None and self.status is None:
            outcome = "timeout" if issubclass(kind, TimeoutError) else "error"
        elif self.status is not None:
            outcome = f"{self.status // 100}xx"
        else:
            outcome = "error"
        observe_upstream(self.target, outcome, seconds)
        if self._span is not None:
            tracing.end_client_span(self._span, outcome, self.status)


def upstream_call(target: str, headers: MutableMapping[str, str] | None = None) -> UpstreamCall:
    return UpstreamCall(target, headers)
