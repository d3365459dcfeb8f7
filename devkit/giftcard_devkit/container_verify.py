"""After the drive: do the ledger (the money on the cards) and commercetools (the shop's payments) agree?

For every card: the ledger's debits are exactly the Success charges recorded in commercetools for that
shopper's carts (the same provider references and amounts), its credits exactly the Success refunds, and
the balance is the initial amount minus the difference, to the cent. Nothing may be left Initial or
Pending, and no cart may be paid beyond its total.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from giftcard_devkit.container_drive import CURRENCY, CommercetoolsSide, Shopper


class LedgerAdmin:
    """The ledger's admin API (issue cards, read balances and entries) with an `admin` key."""

    def __init__(self, base_url: str, admin_key: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=30)

    async def issue(self, count: int, cent_amount: int) -> list[str]:
        body = {"amount": {"centAmount": cent_amount, "currencyCode": CURRENCY}, "count": count}
        response = await self.client.post("/v1/cards", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        response.raise_for_status()
        return [str(card["code"]) for card in response.json()["cards"]]

    async def history(self, code: str) -> dict[str, Any]:
        response = await self.client.post("/v1/cards/history", json={"code": code})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass
class Agreement:
    cards: int = 0
    cards_agreeing: int = 0
    payments: int = 0
    transactions: Counter[str] = field(default_factory=Counter)
    unsettled: int = 0
    overpaid_carts: int = 0
    charged_ct: int = 0
    refunded_ct: int = 0
    debited_ledger: int = 0
    credited_ledger: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems and self.unsettled == 0 and self.overpaid_carts == 0


def _money(value: dict[str, Any]) -> int:
    return int(value["centAmount"])


async def compare(shoppers: list[Shopper], ct: CommercetoolsSide, ledger: LedgerAdmin) -> Agreement:
    result = Agreement()
    for shopper in shoppers:
        charges: Counter[tuple[str, int]] = Counter()
        refunds = 0
        for cart_id in shopper.carts:
            cart = await ct.cart(cart_id)
            paid = 0
            for ref in cart.get("paymentInfo", {}).get("payments", []):
                payment = ref.get("obj") or {}
                result.payments += 1
                for tx in payment.get("transactions", []):
                    result.transactions[f"{tx['type']} {tx['state']}"] += 1
                    if tx["state"] in ("Initial", "Pending"):
                        result.unsettled += 1
                    if tx["state"] != "Success":
                        continue
                    if tx["type"] in ("Charge",):
                        charges[(str(tx.get("interactionId")), _money(tx["amount"]))] += 1
                        paid += _money(tx["amount"])
                    elif tx["type"] == "Refund":
                        refunds += _money(tx["amount"])
                        paid -= _money(tx["amount"])
            if paid > _money(cart["totalPrice"]):
                result.overpaid_carts += 1
                result.problems.append(f"cart {cart_id} paid {paid} of {_money(cart['totalPrice'])}")
        history = await ledger.history(shopper.code)
        debits: Counter[tuple[str, int]] = Counter()
        credits = 0
        for entry in history["entries"]:
            amount = _money(entry["amount"])
            if entry["kind"] in ("redeem", "capture"):
                debits[(str(entry["reference"]), -amount)] += 1
            elif entry["kind"] == "refund":
                credits += amount
        balance = _money(history["card"]["balance"])
        charged = sum(amount * n for (_, amount), n in charges.items())
        debited = sum(amount * n for (_, amount), n in debits.items())
        result.cards += 1
        result.charged_ct += charged
        result.refunded_ct += refunds
        result.debited_ledger += debited
        result.credited_ledger += credits
        problems = []
        if charges != debits:
            only_ct = sorted((charges - debits).elements())
            only_ledger = sorted((debits - charges).elements())
            problems.append(f"charges in commercetools only {only_ct}, debits in the ledger only {only_ledger}")
        if refunds != credits:
            problems.append(f"refunds {refunds} in commercetools, {credits} credited by the ledger")
        if balance != shopper.initial - charged + refunds:
            problems.append(f"balance {balance} != {shopper.initial} - {charged} + {refunds}")
        if problems:
            result.problems += [f"card #{shopper.index}: {p}" for p in problems]
        else:
            result.cards_agreeing += 1
    return result
