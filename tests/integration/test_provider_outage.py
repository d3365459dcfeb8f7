"""A failing provider: the Processor answers clearly, writes nothing half-done, and recovers."""

from __future__ import annotations

import secrets

import httpx

from giftcard_devkit.processes import processor
from tests.support.flows import cart_payments, money, new_session
from tests.support.ledger_fixture import LedgerRun


def test_ledger_outage_is_a_clear_503_with_nothing_written_and_service_resumes(emulator, tmp_path):
    ledger = LedgerRun(
        {"LEDGER_SECRET_KEY": secrets.token_hex(16), "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"}
    )
    ledger.start()
    try:
        code = ledger.issue(5000)
        env = {
            **emulator.processor_env(),
            "GIFTCARD_PROVIDER": "ledger",
            "LEDGER_URL": ledger.url,
            "LEDGER_API_KEY": ledger.processor_key,
            "PROVIDER_TIMEOUT": "2",
            "LOG_LEVEL": "WARNING",
        }
        cart, session_id = new_session(emulator, 10000)
        headers = {"X-Session-Id": session_id}
        with processor(env) as server, httpx.Client(base_url=server.base_url, timeout=30) as api:
            assert ledger.service is not None
            ledger.service.stop()

            balance = api.post("/balance", json={"code": code}, headers=headers)
            assert balance.status_code == 503
            assert balance.json()["status"]["state"] == "GenericError"
            redeem = api.post("/redeem", json={"code": code, "redeemAmount": money(1000)}, headers=headers)
            assert redeem.status_code == 503
            assert redeem.json()["status"]["state"] == "GenericError"
            assert cart_payments(emulator, cart["id"]) == [], "nothing may be written while the provider is down"
            status = api.get("/operations/status", headers={"Authorization": f"Bearer {emulator.mint_jwt()}"})
            assert status.json()["status"] == "Partially Available"

            ledger.service.start()
            redeem = api.post("/redeem", json={"code": code, "redeemAmount": money(1000)}, headers=headers)
            assert redeem.status_code == 200, redeem.text
        [payment] = cart_payments(emulator, cart["id"])
        assert [(t["type"], t["state"]) for t in payment["transactions"]] == [("Charge", "Success")]
        assert ledger.show(code)["balance"]["centAmount"] == 4000
    finally:
        ledger.stop()
