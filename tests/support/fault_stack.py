"""The stack the fault tests cut: Processor(s) -> fault proxy -> real ledger, Processor(s) -> fault proxy ->
commercetools emulator, plus the real-life moves after a fault (resubmit, Checkout's retry, `reconcile`).

One stack per test module (one ledger, two proxies, a Processor per capture mode started on first use);
the session's emulator is shared. Provider and commercetools timeouts are short so a "delay past the
timeout" fault costs about a second.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from giftcard_connector.reconcile import reconcile_once
from giftcard_connector.settings import Settings
from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import ServiceProcess, processor
from tests.support import flows
from tests.support.fault_proxy import FaultProxy
from tests.support.flows import money
from tests.support.ledger_fixture import DATABASES, LedgerRun, running_ledger
from tests.support.money_invariant import (
    LedgerCard,
    assert_ledger_and_commercetools_agree,
    assert_money_taken_is_on_the_cart,
    ledger_card,
)

PROVIDER_TIMEOUT = 1.0
CTP_TIMEOUT = 2.0
# A delay fault outlasts the client's timeout by this much; the upstream still acts afterwards.
PAST_TIMEOUT = PROVIDER_TIMEOUT + 0.4
PAST_CTP_TIMEOUT = CTP_TIMEOUT + 0.4
RECONCILE_COMMAND = ["reconcile", "--older-than", "0", "--json"]


@dataclass(frozen=True)
class IssuedCard:
    id: str
    code: str
    cent_amount: int


@dataclass(frozen=True)
class Shopper:
    """A cart and its checkout session; payments are found again by the cart's anonymous id."""

    cart_id: str
    anonymous_id: str
    session_id: str


class FaultStack:
    def __init__(self, emulator: Emulator, ledger: LedgerRun, admin_key: str) -> None:
        self.emulator = emulator
        self.ledger = ledger
        self.admin_key = admin_key
        self.ledger_proxy = FaultProxy(ledger.url).start()
        self.ct_proxy = FaultProxy(emulator.base_url).start()
        self._processors: dict[str, tuple[ServiceProcess, httpx.Client]] = {}

    # -- parts ----------------------------------------------------------------------------------
    def env(self, mode: str, *, through_proxies: bool = True) -> dict[str, str]:
        env = {
            **self.emulator.processor_env(),
            "GIFTCARD_PROVIDER": "ledger",
            "LEDGER_URL": self.ledger.url,
            "LEDGER_API_KEY": self.ledger.processor_key,
            "GIFTCARD_CAPTURE_MODE": mode,
            "PROVIDER_TIMEOUT": str(PROVIDER_TIMEOUT),
            "CTP_TIMEOUT": str(CTP_TIMEOUT),
            "LOG_LEVEL": "WARNING",
        }
        if through_proxies:
            env["LEDGER_URL"] = self.ledger_proxy.url
            env["CTP_API_URL"] = self.ct_proxy.url
            # Mutation check: run the Processors from another source tree (e.g. `git archive` of an older
            # commit) to see these tests fail on the bugs it had; the reconciler stays this tree's.
            if os.environ.get("FAULTS_PROCESSOR_SRC"):
                env["PYTHONPATH"] = os.environ["FAULTS_PROCESSOR_SRC"]
        return env

    def api(self, mode: str) -> httpx.Client:
        """The Processor in this capture mode (started on first use), as an HTTP client."""
        if mode not in self._processors:
            server = processor(self.env(mode)).start()
            self._processors[mode] = (server, httpx.Client(base_url=server.base_url, timeout=30))
        return self._processors[mode][1]

    def clear_faults(self) -> None:
        for proxy in (self.ledger_proxy, self.ct_proxy):
            proxy.reset()

    def settle_proxies(self) -> None:
        """Let requests a delay fault is still holding reach their upstream before anyone looks."""
        for proxy in (self.ledger_proxy, self.ct_proxy):
            proxy.wait_idle(PAST_CTP_TIMEOUT + 10)

    def close(self) -> None:
        for server, client in self._processors.values():
            client.close()
            server.stop()
        self._processors.clear()
        self.ledger_proxy.stop()
        self.ct_proxy.stop()

    # -- data -----------------------------------------------------------------------------------
    def issue(self, cent_amount: int = 5000) -> IssuedCard:
        answer = httpx.post(
            self.ledger.url + "/v1/cards",
            json={"amount": money(cent_amount)},
            headers={"Authorization": f"Bearer {self.admin_key}", "Idempotency-Key": secrets.token_hex(8)},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        [card] = answer.json()["cards"]
        return IssuedCard(card["id"], card["code"], cent_amount)

    def shopper(self, cart_total: int = 10000) -> Shopper:
        cart = self.emulator.create_cart(cart_total)
        session_id = self.emulator.create_session(cart["id"], {"paymentInterface": "giftcard-faults"})
        return Shopper(cart["id"], cart["anonymousId"], session_id)

    def ledger_card(self, card: IssuedCard) -> LedgerCard:
        return ledger_card(
            self.ledger.env["LEDGER_DATABASE_URL"], self.ledger.env.get("LEDGER_DATABASE_SCHEMA"), card.id
        )

    # -- what happens in real life after a fault --------------------------------------------------
    def reconcile(self, mode: str = "direct", *, through_proxies: bool = False) -> dict[str, int]:
        """One reconciler pass with no grace period, in this process (what `giftcard-connector reconcile`
        runs; the command itself is run by reconcile_command)."""
        settings = Settings(**self.env(mode, through_proxies=through_proxies))  # type: ignore[arg-type]
        return asyncio.run(reconcile_once(settings, older_than=0)).to_json()

    def reconcile_command(self, mode: str = "direct") -> Any:
        """`giftcard-connector reconcile --older-than 0 --json` once, straight to commercetools and the ledger."""
        result = subprocess.run(
            [sys.executable, "-m", "giftcard_connector.cli", *RECONCILE_COMMAND],
            env={**os.environ, **self.env(mode, through_proxies=False)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"reconcile exited {result.returncode}: {result.stdout}\n{result.stderr}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    def assert_agree(
        self,
        cards: IssuedCard | Sequence[IssuedCard],
        shoppers: Shopper | Sequence[Shopper],
        *,
        balance: int | None = None,
        available: int | None = None,
    ) -> list[dict[str, Any]]:
        """The money invariant (tests/support/money_invariant.py); `balance` and `available` are the
        expected amounts of the (single) card."""
        self.settle_proxies()
        cards = [cards] if isinstance(cards, IssuedCard) else list(cards)
        shoppers = [shoppers] if isinstance(shoppers, Shopper) else list(shoppers)
        books = [self.ledger_card(card) for card in cards]
        payments = assert_ledger_and_commercetools_agree(
            self.emulator, [s.anonymous_id for s in shoppers], sum((b.movements for b in books), Counter())
        )
        assert_money_taken_is_on_the_cart(self.emulator, [s.cart_id for s in shoppers], payments)
        if balance is not None:
            assert books[0].balance == balance, f"card balance {books[0].balance}, expected {balance}"
        if available is not None:
            assert books[0].available == available, f"card available {books[0].available}, expected {available}"
        return payments


def redeem_call(api: httpx.Client, shopper: Shopper, card: IssuedCard, cent_amount: int) -> httpx.Response:
    return flows.redeem(api, shopper.session_id, card.code, cent_amount)


def redeem_definite(answer: httpx.Response) -> bool:
    return answer.status_code == 200


def intent_definite(answer: httpx.Response) -> bool:
    return answer.status_code == 200 and answer.json().get("outcome") in {"approved", "rejected"}


def until_definite(
    stack: FaultStack, mode: str, call: Callable[[], httpx.Response], definite: Callable[[httpx.Response], bool]
) -> httpx.Response:
    """Submit again / repeat the action as a shopper and Checkout do, until the answer is definite; after
    two tries the reconciler runs (a shopper who waits a while)."""
    answer = call()
    for attempt in range(3):
        if definite(answer):
            break
        if attempt == 2:
            stack.reconcile(mode)
        time.sleep(0.2)
        answer = call()
    return answer


def admin_key(ledger: LedgerRun) -> str:
    return str(ledger.cli("keys", "create", "--role", "admin")["key"])


@pytest.fixture(scope="session", params=DATABASES)
def fault_ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerRun]:
    """One ledger per database for all fault tests (its own, apart from other modules' ledgers)."""
    with running_ledger(request.param, tmp_path_factory) as run:
        yield run


@pytest.fixture(scope="session")
def fault_stack(emulator: Emulator, fault_ledger: LedgerRun) -> Iterator[FaultStack]:
    stack = FaultStack(emulator, fault_ledger, admin_key(fault_ledger))
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture
def stack(fault_stack: FaultStack) -> Iterator[FaultStack]:
    """The module's stack with no faults set and an empty record, before and after each test."""
    fault_stack.clear_faults()
    yield fault_stack
    fault_stack.settle_proxies()
    fault_stack.clear_faults()
