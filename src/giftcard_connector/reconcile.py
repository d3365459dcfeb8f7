"""The reconciler: settles this connector's Initial and Pending transactions by asking the provider
(contract section 9). `giftcard-connector reconcile` runs it; `serve` can run it in the background
(`RECONCILE_INTERVAL`).

It finds payments by payment method (so also payments created but never added to their cart) that
have an Initial or Pending transaction written before the grace period, asks `provider.status(key)`
for each such transaction and records the answer: Success with the provider's reference, Failure
for a refusal. A key the provider never received, older than the grace period, is recorded Failure:
the intent is always written before the provider is called, and every caller that may still call
with that key (the Processor request that wrote it, a resubmit of a young intent) gives up within a
provider call and its retry, far less than the grace period; a resubmit drives only intents younger
than the grace period (giftcards/service.py). Should a call still arrive late, the Processor that
made it sees the Failure when it records and gives the money back (transactions.Settled.contradicted).

Several copies may run it at once: each write is conditional on the payment version and derived from
the payment as it is then, and the provider answers a key the same way every time.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from giftcard_connector.commercetools import payments as rules
from giftcard_connector.commercetools import transactions as txn
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.errors import ApiError
from giftcard_connector.observability import metrics
from giftcard_connector.providers.base import GiftCardProvider, ProviderUnavailable

if TYPE_CHECKING:
    from giftcard_connector.settings import Settings

log = structlog.get_logger(__name__)

DEFAULT_GRACE_SECONDS = txn.GRACE_SECONDS
PAGE_SIZE = 100


@dataclass(slots=True)
class Summary:
    payments: int = 0
    transactions: int = 0
    success: int = 0
    failure: int = 0
    # The provider could not say now (unreachable) or commercetools refused the write: tried next pass.
    unsettled: int = 0

    def add(self, other: Summary) -> None:
        for name in ("payments", "transactions", "success", "failure", "unsettled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def where_unsettled(cutoff: datetime) -> str:
    """This connector's payments with an Initial or Pending transaction written before `cutoff`."""
    return (
        f'paymentMethodInfo(method="{rules.PAYMENT_METHOD}")'
        f' and transactions(state in ("Initial", "Pending") and timestamp < "{txn.timestamp(cutoff)}")'
    )


def _old_unsettled(payment: dict[str, Any], cutoff: datetime) -> list[dict[str, Any]]:
    found = []
    for transaction in rules.transactions(payment):
        written = txn.parse_timestamp(transaction.get("timestamp"))
        if transaction.get("state") in rules.IN_FLIGHT and written is not None and written < cutoff:
            found.append(transaction)
    return found


class Reconciler:
    def __init__(self, commercetools: CommercetoolsClient, provider: GiftCardProvider) -> None:
        self._ct = commercetools
        self._provider = provider

    async def run_once(self, older_than: float = DEFAULT_GRACE_SECONDS) -> Summary:
        """One pass over every matching payment."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        summary = Summary()
        skipped = 0  # payments still matching after their turn: the next page starts after them
        while True:
            page = await self._ct.query_payments(where_unsettled(cutoff), limit=PAGE_SIZE, offset=skipped)
            if not page:
                break
            for payment in page:
                settled, result = await self.settle_payment(payment, cutoff, older_than)
                summary.add(result)
                if _old_unsettled(settled, cutoff):
                    skipped += 1
            if len(page) < PAGE_SIZE:
                break
        log.info("reconcile_pass", older_than=older_than, **summary.to_json())
        return summary

    async def settle_payment(
        self, payment: dict[str, Any], cutoff: datetime, older_than: float
    ) -> tuple[dict[str, Any], Summary]:
        summary = Summary(payments=1)
        for transaction in _old_unsettled(payment, cutoff):
            summary.transactions += 1
            try:
                settled = await txn.settle(
                    self._ct,
                    self._provider,
                    payment,
                    transaction,
                    interface_id=not payment.get("interfaceId"),
                    give_up_after=older_than,
                )
            except (ProviderUnavailable, ApiError) as error:
                summary.unsettled += 1
                metrics.reconciled("error")
                log.warning(
                    "reconcile_unsettled",
                    payment_id=payment["id"],
                    transaction_id=transaction["id"],
                    error=str(error),
                )
                continue
            if settled is None:
                summary.unsettled += 1
                metrics.reconciled("unknown")
                continue
            payment = settled.payment
            if settled.state == "Success":
                summary.success += 1
            elif settled.state == "Failure":
                summary.failure += 1
            else:
                summary.unsettled += 1
            metrics.reconciled(settled.state if settled.state in ("Success", "Failure") else "unknown")
            log.info(
                "reconcile_settled",
                payment_id=payment["id"],
                transaction_id=transaction["id"],
                type=transaction.get("type"),
                state=settled.state,
                reference=settled.result.reference,
            )
        return payment, summary

    async def watch(self, interval: float, older_than: float = DEFAULT_GRACE_SECONDS) -> None:
        """Pass after pass, `interval` seconds apart, until cancelled; a failing pass is logged."""
        while True:
            try:
                await self.run_once(older_than)
            except (ApiError, ProviderUnavailable) as error:
                log.warning("reconcile_pass_failed", error=str(error))
            except Exception:  # a background loop must outlive one bad pass; the next one tries again
                log.exception("reconcile_pass_crashed")
            await asyncio.sleep(interval)


async def reconcile_once(settings: Settings, older_than: float = DEFAULT_GRACE_SECONDS) -> Summary:
    """One pass with clients built from `settings` (what `giftcard-connector reconcile` runs; tests call it
    in-process). Raises ApiError / ProviderUnavailable when the pass cannot run."""
    from giftcard_connector.app import build_services

    services = build_services(settings)
    try:
        return await Reconciler(services.commercetools, services.provider).run_once(older_than)
    finally:
        await services.aclose()


async def run_command(*, older_than: float | None, watch: bool, interval: float, as_json: bool) -> int:
    """`giftcard-connector reconcile`: settings from the environment, like `serve`. Exit 0 when the
    pass ran (what it could not settle is counted as `unsettled`), 1 when it could not run."""
    import orjson

    from giftcard_connector.app import build_services
    from giftcard_connector.log import configure_logging
    from giftcard_connector.settings import load_settings

    settings = load_settings()
    configure_logging(settings.LOG_LEVEL)
    if older_than is None:
        older_than = settings.RECONCILE_GRACE
    if watch:
        services = build_services(settings)
        try:
            await Reconciler(services.commercetools, services.provider).watch(interval, older_than)
        finally:
            await services.aclose()
        return 0
    try:
        summary = await reconcile_once(settings, older_than)
    except (ApiError, ProviderUnavailable) as error:
        log.error("reconcile_failed", error=str(error))
        return 1
    counts = summary.to_json()
    print(orjson.dumps(counts).decode() if as_json else " ".join(f"{name}={value}" for name, value in counts.items()))
    return 0
