"""The operator CLI as an operator runs it: `giftcard-connector ledger ...` as a real process, its output
and exit status checked (0 done, 1 refused, 2 usage or settings, 3 database unavailable)."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from giftcard_connector.ledger.cli import build_parser, main
from giftcard_devkit.processes import ServiceProcess, free_port

SECRET = "cli-test-secret-0123456789"


def _clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(("LEDGER_", "CTP_"))}


@pytest.fixture
def ledger_env(tmp_path: Path) -> dict[str, str]:
    return {
        **_clean_environment(),
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "LEDGER_SECRET_KEY": SECRET,
    }


def ledger(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "giftcard_connector.cli", "ledger", *argv]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def ok(env: dict[str, str], *argv: str) -> str:
    done = ledger(env, *argv)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def ok_json(env: dict[str, str], *argv: str) -> Any:
    return json.loads(ok(env, *argv, "--json"))


def refused_json(env: dict[str, str], *argv: str, status: int) -> dict[str, Any]:
    done = ledger(env, *argv)
    assert done.returncode == status, done.stdout + done.stderr
    assert done.stderr == ""  # under --json even the errors are the one document on stdout
    document: dict[str, Any] = json.loads(done.stdout)
    return document["error"]


def test_amounts_are_major_units_with_the_currencys_digits(ledger_env: dict[str, str]) -> None:
    text = ok(ledger_env, "issue", "--amount", "50.00", "--currency", "EUR")
    assert "balance    50.00 EUR" in text and "code " in text
    yen = ok_json(ledger_env, "issue", "--amount", "5000", "--currency", "JPY")
    assert yen["balance"] == {"centAmount": 5000, "currencyCode": "JPY"}
    assert "5000 JPY" in ok(ledger_env, "show", yen["id"])
    dinar = ok_json(ledger_env, "issue", "--amount", "1.25", "--currency", "kwd")
    assert dinar["balance"] == {"centAmount": 1250, "currencyCode": "KWD"}
    assert "1.250 KWD" in ok(ledger_env, "show", dinar["id"])
    # --minor: whole minor units in and out, for scripts.
    minor = ok(ledger_env, "--minor", "issue", "--amount", "5000", "--currency", "EUR")
    assert "balance    5000 EUR" in minor


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--amount", "50.001", "--currency", "EUR"], "EUR has 2 decimal places"),
        (["--amount", "50.5", "--currency", "JPY"], "JPY has no decimal places"),
        (["--amount", "0", "--currency", "EUR"], "must not be zero"),
        (["--amount", "99999999999999999", "--currency", "EUR"], "larger than the ledger's limit"),
        (["--amount", "-5", "--currency", "EUR"], "must be positive"),
        (["--amount", "ten", "--currency", "EUR"], "is not an amount"),
        (["--amount", "5", "--currency", "XYZ"], "'XYZ' is not an ISO 4217 currency code"),
        (["--amount", "5", "--currency", "XAU"], "XAU has no minor unit"),
        (["--amount", "5", "--currency", "EUR", "--count", "0"], "--count: must be a whole number from 1 to 1000"),
        (["--amount", "5", "--currency", "EUR", "--pin", "12"], "--pin must be 4 to 12 digits"),
    ],
)
def test_bad_amounts_and_currencies_are_usage_errors(
    ledger_env: dict[str, str],
    argv: list[str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In-process (the same main() the command runs) to keep ten cases quick; the process is tested below.
    for name, value in ledger_env.items():
        monkeypatch.setenv(name, value)
    assert main(["issue", *argv, "--json"]) == 2
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert error["code"] == "usage" and says in error["message"] and err == ""
    assert main(["issue", *argv]) == 2
    out, err = capsys.readouterr()
    assert says in err and out == ""


def test_a_bad_amount_from_the_real_command(ledger_env: dict[str, str]) -> None:
    error = refused_json(ledger_env, "issue", "--amount", "50.5", "--currency", "JPY", "--json", status=2)
    assert "JPY has no decimal places" in error["message"]
    as_text = ledger(ledger_env, "issue", "--amount", "50.5", "--currency", "JPY")
    assert as_text.returncode == 2 and "JPY has no decimal places" in as_text.stderr and as_text.stdout == ""


def test_json_anywhere_on_the_line_and_parser_errors_as_json(ledger_env: dict[str, str]) -> None:
    before = json.loads(ok(ledger_env, "--json", "issue", "--amount", "1", "--currency", "EUR"))
    middle = json.loads(ok(ledger_env, "issue", "--json", "--amount", "1", "--currency", "EUR"))
    assert before["balance"] == middle["balance"] == {"centAmount": 100, "currencyCode": "EUR"}
    assert refused_json(ledger_env, "--json", "issue", "--bogus", status=2)["code"] == "usage"
    assert "required" in refused_json(ledger_env, "issue", "--json", status=2)["message"]
    assert "invalid choice" in refused_json(ledger_env, "--json", "fly", status=2)["message"]
    assert refused_json(ledger_env, "--json", status=2)["code"] == "usage"


def test_show_and_history_find_a_card_by_code_id_or_last_four(ledger_env: dict[str, str]) -> None:
    card = ok_json(ledger_env, "issue", "--amount", "20.00", "--currency", "EUR", "--pin", "1234")
    last4 = card["code"].replace("-", "")[-4:]
    by_code = ok_json(ledger_env, "show", card["code"])
    by_id = ok_json(ledger_env, "show", card["id"])
    by_last4 = ok_json(ledger_env, "show", last4.lower())
    assert by_code == by_id == by_last4
    assert by_code["id"] == card["id"] and "code" not in by_code  # a code is shown once, at issue
    # No PIN needed: the operator is not the card holder.
    ok(ledger_env, "reload", last4, "--amount", "2.50")
    ok(ledger_env, "adjust", card["id"], "--amount", "-1.25", "--note", "goodwill correction")
    history = ok(ledger_env, "history", last4)
    lines = history.splitlines()
    header = next(line for line in lines if line.startswith("WHEN"))
    for column in ("KIND", "AMOUNT", "BALANCE AFTER", "REFERENCE", "NOTE"):
        assert column in header
    assert "goodwill correction" in history
    rows = [line for line in lines if line[:4].isdigit()]
    assert [row.split()[2] for row in rows] == ["issue", "reload", "adjust"]
    # Amount columns are right-aligned: every amount ends in the same column.
    ends = {row.index(" EUR") for row in rows}
    assert len(ends) == 1
    entries = ok_json(ledger_env, "history", card["code"])
    assert [entry["note"] for entry in entries["entries"]] == [None, None, "goodwill correction"]
    assert entries["card"]["balance"]["centAmount"] == 2125


def test_several_cards_with_the_same_last_four_are_listed_not_guessed(
    ledger_env: dict[str, str], tmp_path: Path
) -> None:
    first = ok_json(ledger_env, "issue", "--amount", "1", "--currency", "EUR")
    second = ok_json(ledger_env, "issue", "--amount", "2", "--currency", "EUR")
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:  # 32**4 codes share last fours; make it happen now
        db.execute("UPDATE cards SET last4 = 'ZZZZ' WHERE id IN (?, ?)", (first["id"], second["id"]))
    error = refused_json(ledger_env, "show", "ZZZZ", "--json", status=1)
    assert error["code"] == "ambiguous"
    assert {match["id"] for match in error["matches"]} == {first["id"], second["id"]}
    as_text = ledger(ledger_env, "reload", "ZZZZ", "--amount", "1")
    assert as_text.returncode == 1
    assert first["id"] in as_text.stdout and second["id"] in as_text.stdout  # the matches, as a table
    assert "2 cards end in ZZZZ" in as_text.stderr
    assert ok_json(ledger_env, "show", first["id"])["balance"]["centAmount"] == 100  # nothing was done


def test_unknown_cards_are_refused_without_echoing_the_code(ledger_env: dict[str, str]) -> None:
    error = refused_json(ledger_env, "show", "AAAA-BBBB-CCCC-DDDD-EEEE", "--json", status=1)
    assert error["code"] == "not_found" and "AAAA-BBBB" not in error["message"]
    assert refused_json(ledger_env, "history", "crd_nope", "--json", status=1)["code"] == "not_found"
    assert refused_json(ledger_env, "show", "Q9Q9", "--json", status=1)["code"] == "not_found"


def test_cards_list_filters_and_pages(ledger_env: dict[str, str]) -> None:
    for amount in ("10.00", "20.00", "30.00"):
        ok(ledger_env, "issue", "--amount", amount, "--currency", "EUR")
    yen = ok_json(ledger_env, "issue", "--amount", "5000", "--currency", "JPY")
    ok(ledger_env, "deactivate", yen["id"])
    every = ok_json(ledger_env, "cards", "list")
    assert every["total"] == 4 and len(every["cards"]) == 4
    rich = ok_json(ledger_env, "cards", "list", "--currency", "EUR", "--min-balance", "15", "--max-balance", "30.00")
    assert sorted(card["balance"]["centAmount"] for card in rich["cards"]) == [2000, 3000]
    disabled = ok_json(ledger_env, "cards", "list", "--status", "disabled")
    assert [card["id"] for card in disabled["cards"]] == [yen["id"]]
    assert ok_json(ledger_env, "cards", "list", "--issued-from", "2999-01-01")["total"] == 0
    today = every["cards"][0]["createdAt"][:10]
    assert ok_json(ledger_env, "cards", "list", "--issued-from", today, "--issued-to", today)["total"] == 4
    page = ok_json(ledger_env, "cards", "list", "--limit", "3", "--page", "2")
    assert page["offset"] == 3 and len(page["cards"]) == 1
    table = ok(ledger_env, "cards", "list", "--limit", "3")
    assert table.splitlines()[0].split() == [
        "ID",
        "LAST4",
        "STATUS",
        "BALANCE",
        "AVAILABLE",
        "EXPIRES",
        "ISSUED",
        "(UTC)",
    ]
    assert "cards 1-3 of 4; next page: --page 2" in table
    needs_currency = refused_json(ledger_env, "cards", "list", "--min-balance", "5", "--json", status=2)
    assert "--currency" in needs_currency["message"]


def test_keys_list_and_revoke(ledger_env: dict[str, str]) -> None:
    created = ok_json(ledger_env, "keys", "create", "--role", "processor", "--label", "shop")
    listed = ok_json(ledger_env, "keys", "list")["keys"]
    assert [(key["id"], key["role"], key["label"], key["revokedAt"]) for key in listed] == [
        (created["id"], "processor", "shop", None)
    ]
    assert created["key"] not in ok(ledger_env, "keys", "list")  # never the secret itself
    revoked = ok_json(ledger_env, "keys", "revoke", created["id"])
    assert revoked["revokedAt"] is not None
    assert ok_json(ledger_env, "keys", "list")["keys"][0]["revokedAt"] == revoked["revokedAt"]
    assert refused_json(ledger_env, "keys", "revoke", "key_unknown", "--json", status=1)["code"] == "not_found"


@pytest.fixture
def running_ledger(ledger_env: dict[str, str]) -> Iterator[ServiceProcess]:
    ok(ledger_env, "migrate")
    port = free_port()
    env = {**ledger_env, "LEDGER_PORT": str(port), "LEDGER_LOG_LEVEL": "WARNING"}
    with ServiceProcess(["ledger", "serve"], env, port, health_path="/v1/health", name="ledger") as server:
        yield server


def test_a_revoked_key_stops_working_at_once_in_a_running_ledger(
    ledger_env: dict[str, str], running_ledger: ServiceProcess
) -> None:
    key = ok_json(ledger_env, "keys", "create", "--role", "processor")
    card = ok_json(ledger_env, "issue", "--amount", "10.00", "--currency", "EUR")
    headers = {"Authorization": f"Bearer {key['key']}"}
    body = {"code": card["code"], "amount": {"centAmount": 100, "currencyCode": "EUR"}}
    with httpx.Client(base_url=running_ledger.base_url, timeout=10) as http:
        assert http.post("/v1/cards/balance", json={"code": card["code"]}, headers=headers).status_code == 200
        assert http.post("/v1/redemptions", json=body, headers={**headers, "Idempotency-Key": "a"}).status_code == 201
        ok(ledger_env, "keys", "revoke", key["id"])
        assert http.post("/v1/cards/balance", json={"code": card["code"]}, headers=headers).status_code == 401
        assert http.post("/v1/redemptions", json=body, headers={**headers, "Idempotency-Key": "b"}).status_code == 401
    assert ok_json(ledger_env, "show", card["id"])["balance"]["centAmount"] == 900


def test_every_option_has_help_text() -> None:
    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help:
                missing.append(f"{path}: {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "ledger")
    assert missing == []


def test_serve_help_lists_the_variables_both_services_read(ledger_env: dict[str, str]) -> None:
    ledger_help = ok(ledger_env, "serve", "--help")
    for name in ("LEDGER_DATABASE_URL", "LEDGER_SECRET_KEY", "LEDGER_WORKERS", "LEDGER_PORT"):
        assert name in ledger_help
    processor = subprocess.run(
        [sys.executable, "-m", "giftcard_connector.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        env=_clean_environment(),
        timeout=60,
    )
    assert processor.returncode == 0
    for name in ("CTP_PROJECT_KEY", "CTP_CLIENT_SECRET", "GIFTCARD_PROVIDER", "WORKERS"):
        assert name in processor.stdout


def test_every_missing_or_malformed_setting_is_reported_at_once() -> None:
    env = {**_clean_environment(), "LEDGER_PORT": "abc", "LEDGER_WORKERS": "0", "LEDGER_SECRET_KEY": "short"}
    done = ledger(env, "serve")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3
    for name, line in zip(("LEDGER_PORT", "LEDGER_WORKERS", "LEDGER_SECRET_KEY"), lines, strict=True):
        assert line.startswith(f"configuration error: {name} ")
    as_json = json.loads(ledger(env, "serve", "--json").stdout)["error"]
    assert as_json["code"] == "configuration" and len(as_json["problems"]) == 3
    processor = subprocess.run(
        [sys.executable, "-m", "giftcard_connector.cli", "serve"],
        capture_output=True,
        text=True,
        env={**_clean_environment(), "PORT": "abc", "GIFTCARD_PROVIDER": "ledger"},
        timeout=60,
    )
    assert processor.returncode == 2
    problems = processor.stderr.strip().splitlines()
    named = {line.split()[2] for line in problems}
    assert {"CTP_PROJECT_KEY", "CTP_JWT_ISSUER", "PORT", "LEDGER_URL", "LEDGER_API_KEY"} <= named
    assert all(line.startswith("configuration error: ") for line in problems)


def test_an_unreachable_database_is_exit_3(ledger_env: dict[str, str]) -> None:
    env = {**ledger_env, "LEDGER_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/none"}
    error = refused_json(env, "show", "ABCD", "--json", status=3)
    assert error["code"] == "unavailable"


def test_unlock_lifts_a_pin_lock(ledger_env: dict[str, str], tmp_path: Path) -> None:
    card = ok_json(ledger_env, "issue", "--amount", "5.00", "--currency", "EUR", "--pin", "2468")
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:  # as five wrong PINs would leave it
        db.execute(
            "UPDATE cards SET pin_failed_attempts = 5, pin_locked_until = '2999-01-01 00:00:00' WHERE id = ?",
            (card["id"],),
        )
    assert "locked until 2999-01-01 00:00:00 UTC" in ok(ledger_env, "show", card["id"])
    unlocked = ok_json(ledger_env, "unlock", card["id"])
    assert unlocked["pinLockedUntil"] is None and unlocked["pinFailedAttempts"] == 0


def test_bad_balance_bounds_are_usage_errors_too(
    ledger_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ledger_env.items():
        monkeypatch.setenv(name, value)
    assert main(["cards", "list", "--currency", "EUR", "--min-balance", "-5", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "usage" and "--min-balance" in error["message"]
    assert main(["cards", "list", "--currency", "EUR", "--min-balance", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0
