"""The admin CLI: `giftcard-connector ledger ...` with --json (one JSON document) and as text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from giftcard_connector.ledger.cli import main

SECRET = "cli-test-secret-0123456789"


@pytest.fixture
def ledger_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "LEDGER_SECRET_KEY": SECRET}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def run_json(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> Any:
    assert main([*argv, "--json"]) == status
    return json.loads(capsys.readouterr().out)


def test_migrate_then_keys_create(ledger_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "migrate") == {"status": "ok"}
    key = run_json(capsys, "keys", "create", "--role", "processor")
    assert key["role"] == "processor" and key["key"].startswith("glk_")


def test_issue_show_reload_history_deactivate(ledger_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    card = run_json(
        capsys, "issue", "--amount", "5000", "--currency", "EUR", "--pin", "1234", "--expires", "2099-12-31"
    )
    assert card["balance"] == {"centAmount": 5000, "currencyCode": "EUR"}
    assert card["currency"] == "EUR" and card["code"]
    shown = run_json(capsys, "show", card["code"])
    assert shown["status"] == "active" and shown["expiresAt"] == "2099-12-31"
    assert shown["last4"] == card["code"].replace("-", "")[-4:]
    assert "code" not in shown
    reloaded = run_json(capsys, "reload", card["code"], "--amount", "250")
    assert reloaded["balance"]["centAmount"] == 5250
    entries = run_json(capsys, "history", card["code"])
    assert [entry["kind"] for entry in entries] == ["issue", "reload"]
    assert sum(entry["amount"]["centAmount"] for entry in entries) == 5250
    assert run_json(capsys, "deactivate", card["code"])["status"] == "disabled"


def test_issue_count_gives_a_list(ledger_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    cards = run_json(capsys, "issue", "--amount", "100", "--currency", "JPY", "--count", "3")
    assert isinstance(cards, list) and len(cards) == 3
    assert all(card["balance"] == {"centAmount": 100, "currencyCode": "JPY"} for card in cards)


def test_unknown_card_is_an_error_document(ledger_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(capsys, "show", "AAAA-BBBB", status=1)
    assert document["error"]["code"] == "not_found"


def test_text_output_is_readable(ledger_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["issue", "--amount", "700", "--currency", "EUR"]) == 0
    out = capsys.readouterr().out
    assert "code:" in out and "700 EUR" in out


def test_missing_secret_is_a_usage_error(
    ledger_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEDGER_SECRET_KEY")
    document = run_json(capsys, "issue", "--amount", "1", "--currency", "EUR", status=2)
    assert "LEDGER_SECRET_KEY" in document["error"]["message"]


def test_entry_point_runs_as_a_process(ledger_env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "giftcard_connector.cli", "ledger", "issue", "--amount", "1", "--currency", "EUR"]
    result = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, env={**os.environ, **ledger_env}, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["balance"]["centAmount"] == 1
