"""The demo sandbox's small parts: origins from DEMO_ALLOWED_ORIGINS, the printed export lines, the
running-demo file, and `make session` without a running demo."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from giftcard_devkit import session
from giftcard_devkit.demo_sandbox import parse_origins, read_running, remove_running, shell_env, write_running


def test_origins_are_split_trimmed_and_without_a_trailing_slash() -> None:
    assert parse_origins(" http://localhost:8000/, https://shop.example ,,") == (
        "http://localhost:8000",
        "https://shop.example",
    )
    assert parse_origins("") == ()


def test_export_lines_paste_into_a_shell_as_they_are() -> None:
    env = {"LEDGER_DATABASE_URL": "sqlite:////tmp/a b/ledger.sqlite3", "LEDGER_SECRET_KEY": "x'y$z"}
    text = shell_env(env)
    script = f'{text}\nprintf \'%s\\n\' "$LEDGER_DATABASE_URL" "$LEDGER_SECRET_KEY"'
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == list(env.values())
    assert all(shlex.split(line)[0] == "export" for line in text.splitlines())


def test_running_file_round_trip_is_private_and_removed(tmp_path: Path) -> None:
    path = write_running(tmp_path, {"processorUrl": "http://127.0.0.1:1"})
    assert path.stat().st_mode & 0o077 == 0  # it names the emulator's client secret
    assert read_running(tmp_path) == {"processorUrl": "http://127.0.0.1:1"}
    remove_running(tmp_path)
    with pytest.raises(LookupError, match="make demo"):
        read_running(tmp_path)


def test_session_without_a_running_demo_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert session.main(["--data-dir", str(tmp_path)]) == 1
    assert "no running demo found" in capsys.readouterr().err


def test_session_when_the_demo_died_without_cleaning_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_running(
        tmp_path,
        {
            "emulatorUrl": "http://127.0.0.1:9",  # nothing listens on the discard port
            "projectKey": "p",
            "clientId": "c",
            "clientSecret": "s",
            "processorUrl": "http://127.0.0.1:9",
        },
    )
    assert session.main(["--data-dir", str(tmp_path)]) == 1
    assert "is `make demo` running?" in capsys.readouterr().err
