"""The pure parts of `make container-check` (the check itself needs root and minutes: not in `make test`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from giftcard_devkit.container_check import count_lb_log, current_sessions, error_summary, json_line
from giftcard_devkit.container_drive import Shopper
from giftcard_devkit.container_images import Mirrors, host_mirrors
from giftcard_devkit.container_verify import compare


def test_mirrors_from_deb822_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    assert host_mirrors(tmp_path) == Mirrors("http://mirror.example/debian", "http://mirror.example/debian-security")


def test_mirrors_from_one_line_sources_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://ftp.example/debian bookworm main\n")
    assert host_mirrors(tmp_path) == Mirrors("http://ftp.example/debian", "http://deb.debian.org/debian-security")
    assert host_mirrors(tmp_path / "missing").debian == "http://deb.debian.org/debian"


def test_json_document_among_compose_lines() -> None:
    text = 'Creating giftcard-check_ledger_run ... done\n{\n  "id": "k1",\n  "key": "secret"\n}\nbye\n'
    assert json_line(text)["key"] == "secret"


def test_lb_log_counts_requests_per_copy_and_status() -> None:
    log = (
        "lb_1 | 127.0.0.1:40000 [28/Nov/2026:19:40:00.123] shop~ processors/processor-1 0/0/1/12/13 200 245 - - "
        '---- 7/7/0/0/0 0/0 "POST /redeem HTTP/1.1"\n'
        "lb_1 | 127.0.0.1:40002 [28/Nov/2026:19:40:00.200] shop~ processors/processor-2 0/0/0/9/9 429 180 - - "
        '---- 7/7/0/0/0 0/0 "POST /balance HTTP/1.1"\n'
        "lb_1 | [WARNING]  (8) : Server processors/processor-1 is DOWN, reason: Layer4 connection problem\n"
    )
    per_server, per_status = count_lb_log(log)
    assert per_server == {"processor-1": 1, "processor-2": 1}
    assert per_status == {"200": 1, "429": 1}


def test_error_summary_keeps_the_event_and_the_end_of_the_traceback() -> None:
    line = (
        'processor-1_1  | {"event":"unhandled_error","level":"error","exception":'
        '"Traceback (most recent call last):\\n  File \\"edge.py\\", line 73\\nAttributeError: boom"}'
    )
    assert error_summary(line) == (
        'processor-1_1  | unhandled_error: Traceback (most recent call last): | File "edge.py", line 73 | '
        "AttributeError: boom"
    )


def test_current_sessions_of_one_copy_from_haproxy_stats_csv() -> None:
    page = (
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot\n"
        "shop,FRONTEND,,,3,9,262,120\n"
        "processors,processor-1,0,0,2,5,,60\n"
        "processors,processor-2,0,0,1,4,,58\n"
        "processors,BACKEND,0,0,3,9,26,118\n"
    )
    assert current_sessions(page, "processors", "processor-1") == 2
    assert current_sessions(page, "processors", "processor-3") == 0


# -- the ledger vs commercetools comparison, on recorded data -------------------------------------------


def money(cents: int) -> dict[str, Any]:
    return {"centAmount": cents, "currencyCode": "EUR"}


class FakeCommercetools:
    def __init__(self, carts: dict[str, dict[str, Any]]) -> None:
        self.carts = carts

    async def cart(self, cart_id: str) -> dict[str, Any]:
        return self.carts[cart_id]


class FakeLedger:
    def __init__(self, histories: dict[str, dict[str, Any]]) -> None:
        self.histories = histories

    async def history(self, code: str) -> dict[str, Any]:
        return self.histories[code]


def cart(total: int, *transactions: dict[str, Any]) -> dict[str, Any]:
    payment = {"obj": {"transactions": list(transactions)}}
    return {"totalPrice": money(total), "paymentInfo": {"payments": [payment]}}


def tx(kind: str, state: str, cents: int, interaction: str) -> dict[str, Any]:
    return {"type": kind, "state": state, "amount": money(cents), "interactionId": interaction}


def history(balance: int, *entries: tuple[str, int, str]) -> dict[str, Any]:
    return {
        "card": {"balance": money(balance)},
        "entries": [{"kind": kind, "amount": money(cents), "reference": ref} for kind, cents, ref in entries],
    }


async def test_agreement_when_every_debit_and_refund_is_recorded_on_both_sides() -> None:
    shopper = Shopper(0, "CODE", 10_000, carts=["c1", "c2"])
    ct = FakeCommercetools(
        {
            "c1": cart(5000, tx("Charge", "Success", 500, "red_1"), tx("Refund", "Success", 99, "ref_1")),
            "c2": cart(5000, tx("Charge", "Failure", 700, "red_x"), tx("Charge", "Success", 700, "red_2")),
        }
    )
    ledger = FakeLedger(
        {"CODE": history(8899, ("redeem", -500, "red_1"), ("refund", 99, "ref_1"), ("redeem", -700, "red_2"))}
    )
    result = await compare([shopper], ct, ledger)  # type: ignore[arg-type]
    assert result.agrees and result.cards_agreeing == 1
    assert (result.charged_ct, result.debited_ledger, result.refunded_ct, result.credited_ledger) == (
        1200,
        1200,
        99,
        99,
    )


async def test_a_debit_commercetools_does_not_know_is_money_lost() -> None:
    shopper = Shopper(0, "CODE", 10_000, carts=["c1"])
    ct = FakeCommercetools({"c1": cart(5000, tx("Charge", "Pending", 500, "red_1"))})
    ledger = FakeLedger({"CODE": history(9500, ("redeem", -500, "red_1"))})
    result = await compare([shopper], ct, ledger)  # type: ignore[arg-type]
    assert not result.agrees
    assert result.unsettled == 1
    assert "debits in the ledger only [('red_1', 500)]" in result.problems[0]


async def test_an_overpaid_cart_is_reported() -> None:
    shopper = Shopper(0, "CODE", 10_000, carts=["c1"])
    ct = FakeCommercetools(
        {"c1": cart(1000, tx("Charge", "Success", 600, "red_1"), tx("Charge", "Success", 600, "red_2"))}
    )
    ledger = FakeLedger({"CODE": history(8800, ("redeem", -600, "red_1"), ("redeem", -600, "red_2"))})
    result = await compare([shopper], ct, ledger)  # type: ignore[arg-type]
    assert result.overpaid_carts == 1 and not result.agrees
