"""`giftcard-connector reconcile` against the emulator and the real ledger: it settles Initial and Pending
transactions from what the ledger says happened to their keys, and only those older than the grace period."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from giftcard_connector.commercetools.transactions import timestamp
from tests.support.flows import money, transactions
from tests.support.ledger_fixture import LedgerRun, ledger_run

__all__ = ["ledger_run"]

LONG_AGO = timestamp(datetime.now(UTC) - timedelta(hours=1))


def _payment(emulator, state: str, written: str, amount: int = 1000) -> dict[str, Any]:
    response = emulator.api(
        "POST",
        "/payments",
        json={
            "amountPlanned": money(amount),
            "paymentMethodInfo": {"method": "giftcard", "paymentInterface": "giftcard-test"},
            "transactions": [
                {
                    "type": "Charge",
                    "amount": money(amount),
                    "state": state,
                    "interactionId": "intent-test",
                    "timestamp": written,
                }
            ],
        },
    )
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment


def _key(payment: dict[str, Any]) -> str:
    return f"{payment['id']}:{payment['transactions'][0]['id']}"


def _reconcile(emulator, ledger_run: LedgerRun, *args: str) -> dict[str, int]:
    env = {
        **os.environ,
        **emulator.processor_env(),
        "GIFTCARD_PROVIDER": "ledger",
        "LEDGER_URL": ledger_run.url,
        "LEDGER_API_KEY": ledger_run.processor_key,
        "LOG_LEVEL": "INFO",
    }
    result = subprocess.run(
        [sys.executable, "-m", "giftcard_connector.cli", "reconcile", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary: dict[str, int] = json.loads(result.stdout)
    return summary


def _state(emulator, payment: dict[str, Any]) -> dict[str, Any]:
    [charge] = transactions(emulator.get_payment(payment["id"]))
    return charge


def test_reconcile_settles_from_the_ledger_and_leaves_young_intents_alone(emulator, ledger_run):
    code = ledger_run.issue(5000)
    # The ledger debited, the answer was lost: Pending in commercetools.
    lost = _payment(emulator, "Pending", LONG_AGO)
    debit = httpx.post(
        f"{ledger_run.url}/v1/redemptions",
        json={"code": code, "amount": money(1000)},
        headers={"Authorization": f"Bearer {ledger_run.processor_key}", "Idempotency-Key": _key(lost)},
    )
    assert debit.status_code == 201, debit.text
    # The Processor died before calling the ledger: Initial, the key was never received.
    never_sent = _payment(emulator, "Initial", LONG_AGO)
    # Written a moment ago: its Processor may be calling the ledger right now.
    young = _payment(emulator, "Initial", timestamp())

    balance = ledger_run.show(code)["balance"]
    summary = _reconcile(emulator, ledger_run, "--older-than", "600")
    assert summary["success"] >= 1 and summary["failure"] >= 1

    settled = _state(emulator, lost)
    assert (settled["state"], settled["interactionId"]) == ("Success", debit.json()["id"])
    assert emulator.get_payment(lost["id"])["interfaceId"] == debit.json()["id"]
    assert _state(emulator, never_sent)["state"] == "Failure"
    assert _state(emulator, young)["state"] == "Initial"
    assert ledger_run.show(code)["balance"] == balance  # reconciling asks; it moves nothing

    again = _reconcile(emulator, ledger_run, "--older-than", "600")
    assert again["success"] == 0 and again["failure"] == 0, "a second pass finds nothing of these"


def test_a_refused_operation_is_recorded_failure(emulator, ledger_run):
    code = ledger_run.issue(5)  # 5.00 EUR
    refused = _payment(emulator, "Pending", LONG_AGO)
    answer = httpx.post(
        f"{ledger_run.url}/v1/redemptions",
        json={"code": code, "amount": money(1000)},
        headers={"Authorization": f"Bearer {ledger_run.processor_key}", "Idempotency-Key": _key(refused)},
    )
    assert answer.status_code == 422
    _reconcile(emulator, ledger_run, "--older-than", "600")
    assert _state(emulator, refused)["state"] == "Failure"


def test_serve_runs_the_sweep_in_the_background_when_asked(emulator):
    import time

    from giftcard_devkit.processes import processor

    forgotten = _payment(emulator, "Initial", LONG_AGO)
    env = {
        **emulator.processor_env(),
        "GIFTCARD_PROVIDER": "mock",
        "LOG_LEVEL": "WARNING",
        "RECONCILE_INTERVAL": "0.5",
        "RECONCILE_GRACE": "60",
    }
    with processor(env):
        deadline = time.monotonic() + 30
        while _state(emulator, forgotten)["state"] == "Initial" and time.monotonic() < deadline:
            time.sleep(0.25)
    # The mock never received that key and the intent is an hour old: the provider cannot act on it now.
    assert _state(emulator, forgotten)["state"] == "Failure"
